@testable import GatewayHTTP2
import GatewayCore
import Testing

@Suite struct HTTP2ServerSessionTests {
    @Test func getHeadIsMappedAndResponseIsSanitised() throws {
        let h = try Harness()
        #expect(h.client.serverMaxConcurrentStreams == 100)
        let id = h.client.request([(":method", "GET"), (":scheme", "https"), (":path", "/a/b?c=1"),
                                   (":authority", "shop.example"), ("x-custom", "v"), ("accept", "*/*")])
        try h.pump()
        let head = try #require(h.recorder.heads[id])
        #expect(head.method == "GET")
        #expect(head.target == "/a/b?c=1")
        #expect(head.authority == "shop.example")
        #expect(head.version == .http2)
        #expect(head.framing == .none)
        #expect(head.extendedProtocol == nil)
        #expect(head.headers.pairs.map { "\($0.name)=\($0.value)" } == ["x-custom=v", "accept=*/*"])
        #expect(h.recorder.headEndStream[id] == true)
        #expect(h.recorder.ended == [id])
        #expect(h.server.openStreamCount == 1)

        h.server.respond(id, [("Content-Type", "text/plain"), ("Connection", "close"), ("Keep-Alive", "5"),
                              ("Transfer-Encoding", "chunked"), ("Upgrade", "h2c"), ("X-Up", "1")], body: Array("hi".utf8))
        try h.pump()
        let r = try #require(h.client.responses[id])
        #expect(r.status == 200)
        #expect(r.headers.map(\.name) == ["content-type", "x-up"])
        #expect(r.body == Array("hi".utf8))
        #expect(r.closed && r.closeErrorCode == 0)
        #expect(h.recorder.closed[id] == 0)
        #expect(h.server.openStreamCount == 0)
    }

    @Test func postBodyFollowsConsumedFlowControl() throws {
        let h = try Harness()
        h.recorder.autoConsume = false
        let body = Harness.pattern(1_500_000)
        let id = h.client.request([(":method", "POST"), (":scheme", "https"), (":path", "/upload"),
                                   (":authority", "shop.example"), ("content-length", "1500000")], body: body)
        try h.pump()
        #expect(h.recorder.heads[id]?.framing == .contentLength(1_500_000))
        #expect(h.recorder.headEndStream[id] == false)
        // Without `consumed` the client stalls at the stream window.
        #expect(h.recorder.bodies[id]?.count == 65_535)
        #expect(h.recorder.ended.isEmpty)

        var reported = 0
        for _ in 0..<1_000 where !h.recorder.ended.contains(id) {
            let got = h.recorder.bodies[id]?.count ?? 0
            h.server.consumed(streamID: id, count: got - reported)
            reported = got
            try h.pump()
        }
        #expect(h.recorder.ended == [id])
        #expect(h.recorder.bodies[id] == body)
    }

    @Test func thirtyConcurrentStreamsEachGetTheirOwnResponse() throws {
        let h = try Harness()
        h.recorder.onHead = { s, head, id in s.respond(id, [("x-path", head.target)], body: Array("stream \(id)".utf8)) }
        var ids: [Int32] = []
        for i in 0..<30 {
            ids.append(h.client.request([(":method", "GET"), (":scheme", "https"), (":path", "/item/\(i)"),
                                         (":authority", "shop.example")]))
        }
        try h.pump()
        #expect(h.recorder.heads.count == 30)
        for (i, id) in ids.enumerated() {
            let r = try #require(h.client.responses[id])
            #expect(r.status == 200)
            #expect(r.headers.first { $0.name == "x-path" }?.value == "/item/\(i)")
            #expect(r.body == Array("stream \(id)".utf8))
        }
        #expect(h.server.openStreamCount == 0)
    }

    @Test func slowReaderBoundsBufferingToWhatTheCallerQueued() throws {
        let h = try Harness(clientAutoConsume: false)
        h.serverWriteLimit = 16 * 1024
        let id = h.client.request(Harness.get)
        try h.pump()
        h.server.sendResponseHead(streamID: id, head: HTTPResponseHead(status: 200, version: .http2), endStream: false)
        let total = 5 * 1024 * 1024, chunk = 64 * 1024, threshold = 256 * 1024
        let body = Harness.pattern(total)
        var sent = 0, maxBuffered = 0
        for _ in 0..<20_000 where h.client.responses[id]?.endStreamReceived != true {
            // The caller's upstream reading: only while the stream is under its threshold.
            while sent < total && h.server.bufferedBytes(streamID: id) < threshold {
                let n = min(chunk, total - sent)
                let buffered = body[sent..<(sent + n)].withUnsafeBytes {
                    h.server.sendData(streamID: id, bytes: $0, endStream: sent + n == total)
                }
                sent += n
                maxBuffered = max(maxBuffered, buffered)
            }
            try h.pump()
            h.client.consume(streamID: id, count: 16 * 1024)
        }
        #expect(h.client.responses[id]?.body == body)
        #expect(maxBuffered <= threshold + chunk)
        #expect(h.server.bufferedBytes(streamID: id) == 0)
        #expect(!h.recorder.drained.isEmpty)
        // One produceOutput call overshoots its limit by at most one frame.
        #expect(h.largestServerWrite <= 16 * 1024 + 16_384 + 9)
    }

    @Test func manyStreamsWithBufferedBodiesStayWithinTheOutputLimit() throws {
        // DATA frames are written from inside nghttp2's send call; it must still stop near the caller's limit rather
        // than emit every stream's window at once.
        let h = try Harness()
        h.serverWriteLimit = 4 * 1024
        let bodies = (0..<8).map { i in Harness.pattern(40_000 + i * 1_000) }
        let ids = try h.getAndQueueResponses(bodies)
        try h.pump()
        for (id, body) in zip(ids, bodies) {
            #expect(h.client.responses[id]?.body == body)
            #expect(h.client.responses[id]?.endStreamReceived == true)
        }
        #expect(h.largestServerWrite > 4 * 1024)
        #expect(h.largestServerWrite <= 4 * 1024 + 16_384 + 9)
        #expect(h.server.openStreamCount == 0)
    }

    @Test func resetsWhileBodiesAreQueuedLeaveTheOtherStreamsWhole() throws {
        let h = try Harness()
        let bodies = (0..<6).map { i in Harness.pattern(50_000 + i * 777) }
        let ids = try h.getAndQueueResponses(bodies)
        // One round of output, then resets from both sides while the rest is still queued.
        var out: [UInt8] = []
        h.server.produceOutput(into: &out, limit: 4 * 1024)
        try h.client.receive(out)
        h.client.reset(streamID: ids[1], errorCode: HTTP2ErrorCode.cancel)
        h.client.reset(streamID: ids[4], errorCode: HTTP2ErrorCode.cancel)
        h.server.resetStream(streamID: ids[2], errorCode: HTTP2ErrorCode.internalError)
        try h.pump()
        for i in [0, 3, 5] {
            #expect(h.client.responses[ids[i]]?.body == bodies[i])
            #expect(h.client.responses[ids[i]]?.endStreamReceived == true)
        }
        #expect(h.recorder.closed[ids[1]] == HTTP2ErrorCode.cancel)
        #expect(h.recorder.closed[ids[4]] == HTTP2ErrorCode.cancel)
        #expect(h.client.responses[ids[2]]?.resetReceived == HTTP2ErrorCode.internalError)
        #expect(h.client.responses[ids[2]]?.endStreamReceived != true)
        #expect(h.server.openStreamCount == 0)
    }

    @Test func trailersPassBothWays() throws {
        let h = try Harness()
        let id = h.client.request([(":method", "POST"), (":scheme", "https"), (":path", "/t"), (":authority", "shop.example"),
                                   ("te", "trailers")], body: Array("abc".utf8), trailers: [("x-checksum", "123")])
        try h.pump()
        #expect(h.recorder.heads[id]?.framing == .chunked)
        #expect(h.recorder.bodies[id] == Array("abc".utf8))
        #expect(h.recorder.trailers[id]?.first(named: "x-checksum") == "123")
        #expect(h.recorder.ended == [id])

        h.server.sendResponseHead(streamID: id, head: HTTPResponseHead(status: 200, version: .http2), endStream: false)
        Array("xyz".utf8).withUnsafeBytes { _ = h.server.sendData(streamID: id, bytes: $0, endStream: false) }
        h.server.sendTrailers(streamID: id, trailers: HTTPHeaders([("X-Resp-Trailer", "ok"), ("Connection", "x")]))
        try h.pump()
        let r = try #require(h.client.responses[id])
        #expect(r.body == Array("xyz".utf8))
        #expect(r.trailers.map { "\($0.name)=\($0.value)" } == ["x-resp-trailer=ok"])
        #expect(r.closed && r.closeErrorCode == 0)
    }

    @Test func responseBuffersOfClosedStreamsServeLaterStreamsCleanly() throws {
        let h = try Harness(clientAutoConsume: false)
        // A stream reset with response bytes still buffered: its buffer is kept for later streams.
        let reset = h.client.request(Harness.get)
        try h.pump()
        h.server.sendResponseHead(streamID: reset, head: HTTPResponseHead(status: 200, version: .http2), endStream: false)
        // The client consumes nothing: of 2 x 50,000 bytes, what exceeds the 65,535-byte window stays buffered.
        for _ in 0..<2 {
            Harness.pattern(50_000).withUnsafeBytes { _ = h.server.sendData(streamID: reset, bytes: $0, endStream: false) }
            try h.pump()
        }
        #expect(h.server.bufferedBytes(streamID: reset) > 0)
        h.client.reset(streamID: reset, errorCode: HTTP2ErrorCode.cancel)
        try h.pump()
        #expect(h.server.spareResponseBuffers.count == 1)
        // Later streams, one after another and then side by side, get exactly their own bytes.
        h.recorder.onHead = { s, head, id in s.respond(id, body: Array("body of \(head.target)".utf8)) }
        var ids: [Int32] = []
        for i in 0..<3 {
            let id = h.client.request([(":method", "GET"), (":scheme", "https"), (":path", "/one/\(i)"),
                                       (":authority", "shop.example")])
            try h.pump()
            ids.append(id)
        }
        for i in 0..<40 {
            ids.append(h.client.request([(":method", "GET"), (":scheme", "https"), (":path", "/many/\(i)"),
                                         (":authority", "shop.example")]))
        }
        try h.pump()
        for id in ids {
            let target = try #require(h.recorder.heads[id]).target
            #expect(h.client.responses[id]?.body == Array("body of \(target)".utf8))
        }
        #expect(h.server.openStreamCount == 0)
        #expect(h.server.spareResponseBuffers.count <= HTTP2ServerSession.maxSpareResponseBuffers)
        #expect(h.server.spareResponseBuffers.allSatisfy { $0.readableBytes == 0 })
    }

    @Test func recycledRequestFieldsServeLaterStreamsCleanly() throws {
        let h = try Harness()
        let big = String(repeating: "v", count: 2000)
        h.recorder.onHead = { s, head, id in
            var fields = head.headers
            s.fieldsPool.give(fields.take())
            s.respond(id, body: [])
        }
        let first = h.client.request(Harness.get + [("x-big", big), ("x-first", "1")])
        try h.pump()
        #expect(h.server.fieldsPool.spares.count == 1)
        let second = h.client.request(Harness.get + [("x-second", "2")])
        try h.pump()
        // The second head has its own fields only, and the first, recycled since, is unchanged.
        #expect(h.recorder.heads[second]?.headers.pairs.map { "\($0.name)=\($0.value)" } == ["x-second=2"])
        #expect(h.recorder.heads[first]?.headers.pairs.map { "\($0.name)=\($0.value)" } == ["x-big=\(big)", "x-first=1"])
        #expect(h.server.fieldsPool.spares.count == 1)
        #expect(h.server.fieldsPool.spares.allSatisfy { $0.count == 0 && $0.storage.isEmpty })
        // A huge head is not kept.
        h.server.fieldsPool.give(HTTPHeaders([("x", String(repeating: "z", count: 20_000))]))
        #expect(h.server.fieldsPool.spares.count == 1)
    }

    @Test func repeatedPseudoHeaderValuesAreReusedOnlyWhenEqual() throws {
        let h = try Harness()
        h.recorder.onHead = { s, _, id in s.respond(id, body: []) }
        let cases: [(method: String, path: String, authority: String)] = [
            ("GET", "/a", "shop.example"), ("POST", "/a", "shop.example"), ("get", "/b", "shop.example"),
            ("PUT", "/b", "other.example:8443"), ("PURGE", "/a-much-longer-path/than/fifteen", "other.example:8443"),
            ("GET", "/a-much-longer-path/than/fifteen", "shop.example"),
        ]
        for c in cases {
            let id = h.client.request([(":method", c.method), (":scheme", "https"), (":path", c.path),
                                       (":authority", c.authority)])
            try h.pump()
            let head = try #require(h.recorder.heads[id])
            #expect(head.method == c.method)
            #expect(head.target == c.path)
            #expect(head.authority == c.authority)
        }
    }

    @Test func clientResetClosesTheStream() throws {
        let h = try Harness()
        let id = h.client.request([(":method", "POST"), (":scheme", "https"), (":path", "/slow"), (":authority", "shop.example")],
                                  keepOpen: true)
        try h.pump()
        #expect(h.recorder.heads[id] != nil)
        #expect(h.server.openStreamCount == 1)
        h.client.reset(streamID: id, errorCode: HTTP2ErrorCode.cancel)
        try h.pump()
        #expect(h.recorder.closed[id] == HTTP2ErrorCode.cancel)
        #expect(h.server.openStreamCount == 0)
        #expect(h.recorder.ended.isEmpty)
    }
}
