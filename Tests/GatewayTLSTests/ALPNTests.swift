import Testing
@testable import GatewayTLS

@Suite struct ALPNTests {
    @Test func wireFormatPrefixesLengths() throws {
        #expect(try ALPN.wireFormat(["h2", "http/1.1"]) == [2] + Array("h2".utf8) + [8] + Array("http/1.1".utf8))
        #expect(throws: TLSError.self) { try ALPN.wireFormat([String(repeating: "x", count: 256)]) }
    }

    @Test func selectsByServerPreference() throws {
        let offered = try ALPN.wireFormat(["http/1.1", "h2"])
        let chosen = offered.withUnsafeBufferPointer { ALPN.select(preferred: [Array("h2".utf8), Array("http/1.1".utf8)], offered: $0) }
        #expect(chosen?.offset == 10)
        #expect(chosen?.length == 2)
    }

    @Test func malformedOrDisjointListsSelectNothing() throws {
        let preferred = [Array("h2".utf8)]
        let truncated: [UInt8] = [5, 0x68, 0x32]
        #expect(truncated.withUnsafeBufferPointer { ALPN.select(preferred: preferred, offered: $0) } == nil)
        let zeroLength: [UInt8] = [0, 2, 0x68, 0x32]
        #expect(zeroLength.withUnsafeBufferPointer { ALPN.select(preferred: preferred, offered: $0) } == nil)
        let other = try ALPN.wireFormat(["spdy/3.1"])
        #expect(other.withUnsafeBufferPointer { ALPN.select(preferred: preferred, offered: $0) } == nil)
        #expect([UInt8]().withUnsafeBufferPointer { ALPN.select(preferred: preferred, offered: $0) } == nil)
    }
}
