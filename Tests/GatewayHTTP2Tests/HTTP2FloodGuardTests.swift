@testable import GatewayHTTP2
import GatewayCore
import HTTP2TestSupport
import Testing

/// The session's own flood guards, driven with raw frames and a manual clock: the empty-DATA token bucket, and the
/// GOAWAY it sends when nghttp2's guards (queued ACKs, CONTINUATION count) end the session.
@Suite struct HTTP2FloodGuardTests {
    typealias F = HTTP2RawFrame

    /// A server session fed raw client bytes; collects what it writes back.
    final class RawSide {
        let recorder = Recorder()
        let clock = ManualClock()
        let session: HTTP2ServerSession
        var output: [UInt8] = []
        var failed = false

        init(burst: Int = 5, perSecond: Int = 2) throws {
            session = try HTTP2ServerSession(settings: HTTP2Settings(emptyDataBurst: burst, emptyDataPerSecond: perSecond),
                                             delegate: recorder, clock: clock)
            feed(F.preface + F.settings())
        }

        func feed(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { buf in
                do { _ = try session.receive(buf) } catch { failed = true }
            }
            session.produceOutput(into: &output, limit: 1 << 20)
        }

        /// (last stream id, error code) of every GOAWAY written so far.
        var goAways: [(Int32, UInt32)] {
            var out: [(Int32, UInt32)] = []
            var at = 0
            while output.count - at >= 9 {
                let length = Int(output[at]) << 16 | Int(output[at + 1]) << 8 | Int(output[at + 2])
                guard output.count - at >= 9 + length else { break }
                if output[at + 3] == F.FrameType.goAway && length >= 8 {
                    let p = Array(output[(at + 9)..<(at + 17)])
                    let last = p[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
                    out.append((Int32(last), p[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
                }
                at += 9 + length
            }
            return out
        }
    }

    static let upload = F.headers(streamID: 1, fields: [(":method", "POST"), (":scheme", "http"),
                                                        (":authority", "a.test"), (":path", "/up")], endStream: false)

    static func repeated(_ frame: [UInt8], _ n: Int) -> [UInt8] { (0..<n).flatMap { _ in frame } }

    @Test func emptyDataWithinTheBurstIsAllowedAndTheNextOneEndsTheConnection() throws {
        let s = try RawSide(burst: 5)
        s.feed(Self.upload + Self.repeated(F.data(streamID: 1), 5))
        #expect(s.goAways.isEmpty)
        #expect(s.session.wantsRead)
        s.feed(F.data(streamID: 1))
        #expect(s.goAways.count == 1)
        #expect(s.goAways.first?.0 == 1)
        #expect(s.goAways.first?.1 == HTTP2ErrorCode.enhanceYourCalm)
        #expect(!s.session.wantsRead && !s.session.wantsWrite)
    }

    @Test func theBucketRefillsEachSecondUpToTheBurst() throws {
        let s = try RawSide(burst: 5, perSecond: 2)
        s.feed(Self.upload + Self.repeated(F.data(streamID: 1), 5))
        s.clock.advance(seconds: 1)
        s.feed(Self.repeated(F.data(streamID: 1), 2))
        #expect(s.goAways.isEmpty)
        // An hour refills to the burst, no further.
        s.clock.advance(seconds: 3600)
        s.feed(Self.repeated(F.data(streamID: 1), 5))
        #expect(s.goAways.isEmpty)
        s.feed(F.data(streamID: 1))
        #expect(s.goAways.first?.1 == HTTP2ErrorCode.enhanceYourCalm)
    }

    /// Only empty frames that leave the stream open count: data, END_STREAM, or padding-only frames are judged as such.
    @Test func onlyEmptyDataWithoutEndStreamCounts() throws {
        let s = try RawSide(burst: 2)
        s.feed(Self.upload + Self.repeated(F.data(streamID: 1, [0x61]), 20))
        #expect(s.goAways.isEmpty)
        #expect(s.recorder.bodies[1]?.count == 20)
        // Padded, no data: PADDED flag, Pad Length 3, three bytes of padding. Three of them pass the burst of 2.
        let paddedEmpty = F.header(length: 4, type: F.FrameType.data, flags: F.Flag.padded, streamID: 1) + [3, 0, 0, 0]
        s.feed(Self.repeated(paddedEmpty, 2))
        #expect(s.goAways.isEmpty)
        s.feed(paddedEmpty)
        #expect(s.goAways.first?.1 == HTTP2ErrorCode.enhanceYourCalm)

        let t = try RawSide(burst: 0)
        t.feed(Self.upload + F.data(streamID: 1, endStream: true))
        #expect(t.goAways.isEmpty)
        #expect(t.recorder.ended == [1])
    }

    /// nghttp2 ends the session itself past 1000 queued ACKs (NGHTTP2_ERR_FLOODED) or 8 CONTINUATION frames,
    /// without a GOAWAY: the session adds GOAWAY(ENHANCE_YOUR_CALM) before `receive` throws.
    @Test func nghttp2FloodErrorsGetAGoAway() throws {
        let settings = try RawSide()
        settings.feed(Self.repeated(F.settings(), 2_000))
        #expect(settings.failed)
        #expect(settings.goAways.map(\.1) == [HTTP2ErrorCode.enhanceYourCalm])

        let continuations = try RawSide()
        let head = F.headers(streamID: 1, block: HPACKBytes.block([(":method", "GET")]), endStream: true, endHeaders: false)
        continuations.feed(head + Self.repeated(F.continuation(streamID: 1, block: HPACKBytes.literal("x", "1"),
                                                               endHeaders: false), 20))
        #expect(continuations.failed)
        #expect(continuations.goAways.map(\.1) == [HTTP2ErrorCode.enhanceYourCalm])
        #expect(continuations.recorder.heads.isEmpty)
    }
}
