@testable import GatewayReplay
import Testing

@Suite struct SipHash128Tests {
    /// Reference key 00..0f from the SipHash paper's test vectors (vectors_sip128[0] and [1]).
    let k0: UInt64 = 0x0706_0504_0302_0100
    let k1: UInt64 = 0x0f0e_0d0c_0b0a_0908

    @Test func emptyMessageMatchesReference() {
        let tag = SipHash128(k0: k0, k1: k1).finalize()
        #expect(tag.lo == 0xe6a8_25ba_047f_81a3)
        #expect(tag.hi == 0x9302_55c7_1472_f66d)
    }

    @Test func oneByteMessageMatchesReference() {
        var h = SipHash128(k0: k0, k1: k1)
        h.write(UInt8(0))
        let tag = h.finalize()
        #expect(tag.lo == 0x44af_996b_d8c1_87da)
        #expect(tag.hi == 0x45fc_229b_1159_7634)
    }

    @Test func bytewiseAndBlockFeedingAgree() {
        let bytes: [UInt8] = (0..<37).map { UInt8($0 &* 7) }
        var a = SipHash128(k0: 1, k1: 2)
        for b in bytes { a.write(b) }
        var b = SipHash128(k0: 1, k1: 2)
        b.write(UInt8(bytes[0]))
        bytes[1...].withUnsafeBytes { b.write($0) }
        let ta = a.finalize(), tb = b.finalize()
        #expect(ta.lo == tb.lo && ta.hi == tb.hi)
    }
}
