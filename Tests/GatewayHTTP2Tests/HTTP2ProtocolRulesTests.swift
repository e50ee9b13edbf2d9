@testable import GatewayHTTP2
import GatewayCore
import HTTP2TestSupport
import Testing

@Suite struct HTTP2ProtocolRulesTests {
    static let malformed: [(String, [(String, String)])] = [
        ("uppercase name", Harness.get + [("X-Upper", "1")]),
        ("connection header", Harness.get + [("connection", "keep-alive")]),
        ("keep-alive header", Harness.get + [("keep-alive", "5")]),
        ("transfer-encoding", Harness.get + [("transfer-encoding", "chunked")]),
        ("upgrade header", Harness.get + [("upgrade", "h2c")]),
        ("te gzip", Harness.get + [("te", "gzip")]),
        ("missing :method", [(":scheme", "https"), (":path", "/"), (":authority", "shop.example")]),
        ("missing :path", [(":method", "GET"), (":scheme", "https"), (":authority", "shop.example")]),
        ("CR LF in a value", Harness.get + [("x-evil", "a\r\nx-injected: 1")]),
        ("NUL in a value", Harness.get + [("x-evil", "a\u{0}b")]),
        ("space in a name", Harness.get + [("x evil", "1")]),
        ("duplicate :path", Harness.get + [(":path", "/other")]),
        ("pseudo after regular", [(":method", "GET"), ("x-a", "1"), (":scheme", "https"), (":path", "/"), (":authority", "s")]),
        // The gate refuses several `host` fields too; nghttp2 does it first.
        ("duplicate host", Harness.get + [("host", "shop.example"), ("host", "shop.example")]),
        ("CONNECT with :path and no :protocol", [(":method", "CONNECT"), (":authority", "s:443"), (":path", "/")]),
    ]

    @Test(arguments: malformed)
    func malformedRequestIsResetWithoutAHead(_ name: String, _ fields: [(String, String)]) throws {
        let h = try Harness()
        let bad = h.client.request(fields)
        try h.pump()
        #expect(h.recorder.heads.isEmpty, "\(name)")
        #expect(h.client.responses[bad]?.resetReceived == HTTP2ErrorCode.protocolError, "\(name)")
        #expect(h.recorder.closed.isEmpty, "\(name)")
        // Only the stream dies; the connection keeps serving.
        let good = h.client.request(Harness.get)
        try h.pump()
        #expect(h.recorder.heads[good] != nil, "\(name)")
    }

    @Test func contentLengthMismatchIsReset() throws {
        let h = try Harness()
        let id = h.client.request([(":method", "POST"), (":scheme", "https"), (":path", "/"), (":authority", "s"),
                                   ("content-length", "10")], body: Array("short".utf8))
        try h.pump()
        #expect(h.recorder.heads[id] != nil)
        #expect(h.recorder.ended.isEmpty)
        #expect(h.client.responses[id]?.resetReceived == HTTP2ErrorCode.protocolError)
        #expect(h.recorder.closed[id] == HTTP2ErrorCode.protocolError)
    }

    @Test func oversizedHeadGets431AndNeverReachesTheDelegate() throws {
        let h = try Harness(settings: HTTP2Settings(maxHeaderListSize: 1024))
        let id = h.client.request(Harness.get + [("x-big", String(repeating: "a", count: 2000))])
        try h.pump()
        #expect(h.recorder.heads.isEmpty)
        let r = try #require(h.client.responses[id])
        #expect(r.status == 431)
        #expect(String(decoding: r.body, as: UTF8.self).contains("headers_too_large"))
        #expect(r.closed)
        // A head just under the limit passes.
        let ok = h.client.request(Harness.get + [("x-big", String(repeating: "a", count: 700))])
        try h.pump()
        #expect(h.recorder.heads[ok] != nil)
    }

    @Test func oversizedTrailersResetTheStream() throws {
        let h = try Harness(settings: HTTP2Settings(maxHeaderListSize: 1024))
        let id = h.client.request([(":method", "POST"), (":scheme", "https"), (":path", "/"), (":authority", "s")],
                                  body: Array("x".utf8), trailers: [("x-big", String(repeating: "b", count: 2000))])
        try h.pump()
        #expect(h.recorder.heads[id] != nil)
        #expect(h.recorder.trailers[id] == nil)
        #expect(h.recorder.ended.isEmpty)
        #expect(h.client.responses[id]?.resetReceived == HTTP2ErrorCode.enhanceYourCalm)
        #expect(h.recorder.closed[id] == HTTP2ErrorCode.enhanceYourCalm)
    }

    /// Valid RFC 7540 signals from a client that did not opt out itself are accepted (nghttp2's minimal fallback, as
    /// in nghttpx); a closed stream is still dropped at once, whatever the signals said.
    @Test func rfc7540PrioritySignalsAreAcceptedAndClosedStreamsAreNotKept() throws {
        let h = try Harness()
        #expect(h.client.serverDisablesRFC7540Priorities)
        h.recorder.onHead = { s, head, id in s.respond(id, [("x-path", head.target)], body: Array("\(id)".utf8)) }
        let first = h.client.request([(":method", "GET"), (":scheme", "https"), (":path", "/p/0"), (":authority", "s")])
        let second = h.client.request([(":method", "GET"), (":scheme", "https"), (":path", "/p/1"), (":authority", "s")])
        h.client.prioritize(streamID: second, dependsOn: first, weight: 200)
        h.client.prioritize(streamID: 101, dependsOn: second)
        try h.pump()
        #expect(h.client.goAways.isEmpty)
        #expect(h.client.responses[first]?.body == Array("\(first)".utf8))
        #expect(h.client.responses[second]?.body == Array("\(second)".utf8))
        // Streams are dropped as they close: more of them one after another than may be open at once still work.
        for i in 0..<250 {
            let id = h.client.request([(":method", "GET"), (":scheme", "https"), (":path", "/seq/\(i)"), (":authority", "s")])
            try h.pump()
            #expect(h.client.responses[id]?.headers.first { $0.name == "x-path" }?.value == "/seq/\(i)")
        }
        #expect(h.recorder.heads.count == 252)
        #expect(h.server.openStreamCount == 0)
    }

    @Test func extendedConnectCarriesTheProtocol() throws {
        let h = try Harness()
        #expect(h.client.serverEnablesConnectProtocol)
        let id = h.client.request([(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
                                   (":path", "/chat"), (":authority", "shop.example"), ("sec-websocket-version", "13")],
                                  keepOpen: true)
        try h.pump()
        let head = try #require(h.recorder.heads[id])
        #expect(head.method == "CONNECT")
        #expect(head.extendedProtocol == "websocket")
        #expect(head.target == "/chat")
        #expect(head.authority == "shop.example")
        #expect(h.recorder.headEndStream[id] == false)

        h.server.sendResponseHead(streamID: id, head: HTTPResponseHead(status: 200, version: .http2), endStream: false)
        h.client.send(streamID: id, Array("ping".utf8), end: false)
        try h.pump()
        #expect(h.recorder.bodies[id] == Array("ping".utf8))
        Array("pong".utf8).withUnsafeBytes { _ = h.server.sendData(streamID: id, bytes: $0, endStream: false) }
        try h.pump()
        #expect(h.client.responses[id]?.status == 200)
        #expect(h.client.responses[id]?.body == Array("pong".utf8))
    }

    /// What nghttp2 lets through and leaves to the gate (RequestGateHTTP2Tests): a plain CONNECT, a CONNECT with a
    /// `:protocol` other than websocket, a `host` naming another authority, and cookie crumbs, unjoined.
    @Test func headsLeftToTheGateReachTheDelegate() throws {
        let h = try Harness()
        let plain = h.client.request([(":method", "CONNECT"), (":authority", "upstream.example:443")], keepOpen: true)
        let other = h.client.request([(":method", "CONNECT"), (":protocol", "webtransport"), (":scheme", "https"),
                                      (":path", "/wt"), (":authority", "shop.example")], keepOpen: true)
        let host = h.client.request(Harness.get + [("host", "other.example")])
        let cookies = h.client.request(Harness.get + [("cookie", "a=1"), ("x-a", "1"), ("cookie", "b=2")])
        try h.pump()
        let p = try #require(h.recorder.heads[plain])
        #expect(p.method == "CONNECT" && p.target.isEmpty && p.extendedProtocol == nil)
        #expect(p.authority == "upstream.example:443")
        #expect(h.recorder.heads[other]?.extendedProtocol == "webtransport")
        #expect(h.recorder.heads[host]?.authority == "shop.example")
        #expect(h.recorder.heads[host]?.headers.all(named: "host") == ["other.example"])
        #expect(h.recorder.heads[cookies]?.headers.all(named: "cookie") == ["a=1", "b=2"])
    }

    @Test func extendedConnectRefusedWhenDisabled() throws {
        let h = try Harness(settings: HTTP2Settings(enableConnectProtocol: false))
        #expect(!h.client.serverEnablesConnectProtocol)
        let id = h.client.request([(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
                                   (":path", "/chat"), (":authority", "shop.example")], keepOpen: true)
        try h.pump()
        #expect(h.recorder.heads.isEmpty)
        #expect(h.client.responses[id]?.resetReceived == HTTP2ErrorCode.protocolError)
    }

    @Test func gracefulGoAwayNamesTheLastStreamAndLetsItFinish() throws {
        let h = try Harness()
        let first = h.client.request(Harness.get)
        let second = h.client.request(Harness.get)
        try h.pump()
        h.server.goAway(graceful: true)
        try h.pump()
        #expect(h.client.goAways.map(\.lastStreamID) == [Int32.max, second])
        #expect(h.client.goAways.allSatisfy { $0.errorCode == HTTP2ErrorCode.noError })
        #expect(h.server.wantsRead)
        h.server.respond(first, body: Array("a".utf8))
        h.server.respond(second, body: Array("b".utf8))
        try h.pump()
        #expect(h.client.responses[first]?.body == Array("a".utf8))
        #expect(h.client.responses[second]?.body == Array("b".utf8))
        #expect(!h.server.wantsRead && !h.server.wantsWrite)
    }

    @Test func immediateGoAway() throws {
        let h = try Harness()
        let id = h.client.request(Harness.get)
        try h.pump()
        h.server.goAway(graceful: false)
        try h.pump()
        #expect(h.client.goAways.map(\.lastStreamID) == [id])
    }

    @Test func garbagePrefaceThrows() throws {
        let recorder = Recorder()
        let server = try HTTP2ServerSession(settings: HTTP2Settings(), delegate: recorder)
        let garbage = Array("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n".utf8)
        #expect(throws: HTTP2Error.self) {
            try garbage.withUnsafeBytes { buf in _ = try server.receive(buf) }
        }
    }

    @Test func connectionErrorQueuesGoAwayAndEndsTheSession() throws {
        let h = try Harness()
        // WINDOW_UPDATE on stream 0 with a zero increment: a connection error (RFC 9113 6.9).
        try h.feedServer([0, 0, 4, 0x8, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        var out: [UInt8] = []
        h.server.produceOutput(into: &out, limit: 1 << 16)
        try h.client.receive(out)
        #expect(h.client.goAways.last?.errorCode == HTTP2ErrorCode.protocolError)
        #expect(!h.server.wantsRead && !h.server.wantsWrite)
    }

    @Test func prefaceSplitByteByByteIsAccepted() throws {
        let recorder = Recorder()
        let server = try HTTP2ServerSession(settings: HTTP2Settings(), delegate: recorder)
        let client = try HTTP2TestClient()
        let id = client.request(Harness.get)
        for b in client.produce() { try [b].withUnsafeBytes { buf in _ = try server.receive(buf) } }
        #expect(recorder.heads[id]?.method == "GET")
    }
}
