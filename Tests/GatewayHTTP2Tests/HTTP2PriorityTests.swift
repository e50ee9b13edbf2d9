@testable import GatewayHTTP2
import GatewayCore
import HTTP2TestSupport
import Testing

/// RFC 9113 5.3.1 and 6.3: PRIORITY signals are deprecated, but malformed ones still fail the peer (h2spec 5.3.1, 6.3).
@Suite struct HTTP2PriorityTests {
    /// Pumps, then returns the error code of the last GOAWAY the client got, once the server has nothing left to say.
    private func goAwayCode(_ h: Harness) throws -> UInt32? {
        try h.pump()
        #expect(!h.server.wantsRead && !h.server.wantsWrite, "the session is finished")
        return h.client.goAways.last?.errorCode
    }

    @Test func priorityOnStreamZeroIsAConnectionError() throws {
        let h = try Harness()
        h.client.sendRaw(HTTP2RawFrame.priority(streamID: 0, dependsOn: 1))
        #expect(try goAwayCode(h) == HTTP2ErrorCode.protocolError)
    }

    @Test func priorityOnAnIdleStreamDependingOnItselfIsRefused() throws {
        let h = try Harness()
        h.client.sendRaw(HTTP2RawFrame.priority(streamID: 9, dependsOn: 9))
        #expect(try goAwayCode(h) == HTTP2ErrorCode.protocolError)
    }

    @Test func priorityOnAnOpenStreamDependingOnItselfIsRefused() throws {
        let h = try Harness()
        let id = h.client.request(Harness.get, keepOpen: true)
        try h.pump()
        #expect(h.recorder.heads[id] != nil)
        h.client.prioritize(streamID: id, dependsOn: id)
        #expect(try goAwayCode(h) == HTTP2ErrorCode.protocolError)
    }

    @Test func headersDependingOnItselfIsRefused() throws {
        let h = try Harness()
        h.client.sendRaw(HTTP2RawFrame.headers(streamID: 1, fields: Harness.get, endStream: true, dependsOn: 1))
        #expect(try goAwayCode(h) == HTTP2ErrorCode.protocolError)
        #expect(h.recorder.heads.isEmpty)
    }

    /// h2spec 6.3/2: a PRIORITY payload other than 5 bytes is a FRAME_SIZE_ERROR (nghttp2 makes it the connection's).
    @Test func priorityOfTheWrongLengthIsAFrameSizeError() throws {
        let h = try Harness()
        h.client.sendRaw(HTTP2RawFrame.priority(streamID: 3, dependsOn: 0, payloadLength: 4))
        #expect(try goAwayCode(h) == 0x6)
    }

    @Test func wellFormedPriorityFramesLeaveTheConnectionServing() throws {
        let h = try Harness()
        h.recorder.onHead = { s, _, id in s.respond(id, body: Array("ok".utf8)) }
        // An idle stream, a stream depending on stream 0 (the root), and an exclusive dependency.
        h.client.sendRaw(HTTP2RawFrame.priority(streamID: 11, dependsOn: 0))
        h.client.sendRaw(HTTP2RawFrame.priority(streamID: 13, dependsOn: 11, weight: 255, exclusive: true))
        let id = h.client.request(Harness.get)
        try h.pump()
        #expect(h.client.goAways.isEmpty)
        #expect(h.client.responses[id]?.body == Array("ok".utf8))
    }
}
