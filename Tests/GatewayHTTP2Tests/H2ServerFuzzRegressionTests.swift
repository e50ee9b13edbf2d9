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
