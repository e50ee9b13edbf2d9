@testable import GatewayHTTP2
import GatewayCore
import HTTP2TestSupport
import Testing

/// Defects the fuzz-h2-server target found, each pinned with the smallest reproduction (the fuzz inputs are in
/// Tests/Fuzz/h2-server/corpus).
@Suite struct H2ServerFuzzRegressionTests {
    /// A stream the delegate reset from inside its head callback: the END_STREAM of that HEADERS frame, and the DATA
    /// and trailers read in the same bytes before the RST_STREAM goes out, were still handed to it.
    @Test(arguments: [false, true])
    func nothingReachesTheDelegateAfterItResetTheStream(_ withBody: Bool) throws {
        let h = try Harness()
        h.recorder.onHead = { s, _, id in s.resetStream(streamID: id, errorCode: HTTP2ErrorCode.internalError) }
        let fields = [(":method", "POST"), (":scheme", "https"), (":path", "/"), (":authority", "shop.example")]
        let id = withBody ? h.client.request(fields, body: Array("body bytes".utf8), trailers: [("x-sum", "1")])
                          : h.client.request(fields)
        try h.pump()
        #expect(h.recorder.heads[id] != nil)
        #expect(h.recorder.bodies[id] == nil)
        #expect(h.recorder.trailers[id] == nil)
        #expect(h.recorder.ended.isEmpty)
        #expect(h.recorder.closed[id] == HTTP2ErrorCode.internalError)
        #expect(h.client.responses[id]?.resetReceived == HTTP2ErrorCode.internalError)
        // The connection still serves, with its window whole.
        h.recorder.onHead = nil
        let next = h.client.request(fields, body: [UInt8](repeating: 7, count: 60_000))
        try h.pump()
        #expect(h.recorder.ended == [next])
        #expect(h.recorder.bodies[next]?.count == 60_000)
    }
}

extension H2ServerFuzzRegressionTests {
    /// RST_STREAM error codes in server output, by stream.
    static func resets(_ out: [UInt8]) -> [Int32: UInt32] {
        var r: [Int32: UInt32] = [:]
        var at = 0
        while out.count - at >= 9 {
            let n = Int(out[at]) << 16 | Int(out[at + 1]) << 8 | Int(out[at + 2])
            guard out.count - at - 9 >= n else { break }
            if out[at + 3] == 0x3 && n == 4 {
                let sid = Int32(out[at + 5] & 0x7f) << 24 | Int32(out[at + 6]) << 16 | Int32(out[at + 7]) << 8 | Int32(out[at + 8])
                r[sid] = UInt32(out[at + 9]) << 24 | UInt32(out[at + 10]) << 16 | UInt32(out[at + 11]) << 8 | UInt32(out[at + 12])
            }
            at += 9 + n
        }
        return r
    }

    /// A HEADERS frame (END_HEADERS, END_STREAM) of literal fields given as bytes, with no indexing.
    static func rawHeaders(stream: Int32, _ fields: [([UInt8], [UInt8])]) -> [UInt8] {
        var block: [UInt8] = []
        for (n, v) in fields { block += [0x00, UInt8(n.count)] + n + [UInt8(v.count)] + v }
        return HTTP2RawFrame.header(length: block.count, type: 0x1, flags: 0x5, streamID: stream) + block
    }

    /// A `:path` with bytes from 0x80 up (here invalid UTF-8) passed nghttp2 and reached the delegate, its target
    /// rewritten to U+FFFD by the String it became: the HTTP/1.1 parser refuses such a request-target, so HTTP/2
    /// refuses it too, with the stream error RFC 9113 8.1.1 asks for. A `#` is refused as in HTTP/1.1.
    @Test(arguments: [[0x2f, 0x87, 0x36], Array("/caf\u{e9}".utf8), Array("/a#frag".utf8)] as [[UInt8]])
    func pathOutsideVisibleASCIIIsRefused(_ path: [UInt8]) throws {
        let h = try Harness()
        func req(_ id: Int32, _ p: [UInt8]) -> [UInt8] {
            H2ServerFuzzRegressionTests.rawHeaders(stream: id, [(Array(":method".utf8), Array("GET".utf8)),
                (Array(":scheme".utf8), Array("https".utf8)), (Array(":path".utf8), p),
                (Array(":authority".utf8), Array("shop.example".utf8))])
        }
        try h.feedServer(req(101, path) + req(103, Array("/ok".utf8)))
        var out: [UInt8] = []
        h.server.produceOutput(into: &out, limit: 1 << 20)
        #expect(h.recorder.heads[101] == nil)
        #expect(H2ServerFuzzRegressionTests.resets(out)[101] == HTTP2ErrorCode.protocolError)
        // Only the stream: the next request on the connection is served.
        #expect(h.recorder.heads[103]?.target == "/ok")
    }
}

extension H2ServerFuzzRegressionTests {
    /// An extended CONNECT whose `:protocol` is not a token (here with a space) reached the delegate: nghttp2 checks
    /// it only as a field value. RFC 8441 wants an upgrade token; it is refused like any malformed request.
    @Test(arguments: ["webt:h n9", "web\u{e9}socket", ""])
    func protocolThatIsNotATokenIsRefused(_ proto: String) throws {
        let h = try Harness()
        func req(_ id: Int32, _ p: String) -> [UInt8] {
            H2ServerFuzzRegressionTests.rawHeaders(stream: id, [(Array(":method".utf8), Array("CONNECT".utf8)),
                (Array(":protocol".utf8), Array(p.utf8)), (Array(":scheme".utf8), Array("https".utf8)),
                (Array(":path".utf8), Array("/chat".utf8)), (Array(":authority".utf8), Array("shop.example".utf8))])
        }
        try h.feedServer(req(101, proto) + req(103, "websocket"))
        var out: [UInt8] = []
        h.server.produceOutput(into: &out, limit: 1 << 20)
        #expect(h.recorder.heads[101] == nil)
        #expect(H2ServerFuzzRegressionTests.resets(out)[101] == HTTP2ErrorCode.protocolError)
        #expect(h.recorder.heads[103]?.extendedProtocol == "websocket")
    }
}
