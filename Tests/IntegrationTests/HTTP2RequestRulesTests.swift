import Foundation
import HTTP2TestSupport
import Testing

/// The contract's HTTP/2 request rules end to end, through the engine to the echo backend: cookies joined, a `host`
/// that contradicts `:authority` and any CONNECT but WebSocket refused with nothing forwarded.
@Suite(.serialized)
struct HTTP2RequestRulesTests {
    static func fields(_ method: String, _ path: String, _ extra: [(String, String)]) -> [(String, String)] {
        [(":method", method), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", path)] + extra
    }

    /// The JSON body of a finished stream, as the echo backend or the gateway wrote it.
    static func json(_ d: H2Driver, _ id: Int32) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(d.client.responses[id]?.body ?? []))) as? [String: Any]
    }

    @Test func severalCookieFieldsReachTheBackendAsOne() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        let id = d.client.request(Self.fields("GET", "/public/cookies", [("cookie", "a=1"), ("cookie", "b=2"), ("cookie", "c=3")]))
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true })
        #expect(d.client.responses[id]?.status == 200)
        let headers = Self.json(d, id)?["headers"] as? [String: String]
        #expect(headers?["cookie"] == "a=1; b=2; c=3", "\(String(describing: headers))")
    }

    @Test(arguments: [
        [("host", "evil.example")],
        [("host", "127.0.0.1"), ("host", "evil.example")],
    ])
    func aHostThatContradictsTheAuthorityIsRefused(_ host: [(String, String)]) throws {
        let upstream = try RawUpstream.counting()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        let id = d.client.request(Self.fields("GET", "/public/x", host))
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true || d.client.responses[id]?.resetReceived != nil })
        let r = d.client.responses[id]
        // 400 from the gate, or a reset from nghttp2 for a repeated host; never an answer from the backend.
        #expect(r?.status == 400 || r?.resetReceived != nil, "\(String(describing: r))")
        if r?.status == 400 { #expect(Self.json(d, id)?["error"] as? String == "bad_request") }
        #expect(upstream.requests == 0)
        // The same host as the authority (any case) is fine.
        let ok = d.client.request(Self.fields("GET", "/public/y", [("host", "127.0.0.1")]))
        #expect(d.pump { d.client.responses[ok]?.endStreamReceived == true })
        #expect(d.client.responses[ok]?.status == 200)
    }

    @Test(arguments: ["", "connect-udp", "webtransport"])
    func connectOtherThanWebSocketIsRefused(_ proto: String) throws {
        let upstream = try RawUpstream.counting()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        #expect(d.pump { d.client.serverEnablesConnectProtocol })
        let fields: [(String, String)] = proto.isEmpty
            ? [(":method", "CONNECT"), (":authority", "127.0.0.1:443")]
            : [(":method", "CONNECT"), (":protocol", proto), (":scheme", "http"), (":path", "/public/t"),
               (":authority", "127.0.0.1")]
        let id = d.client.request(fields, body: Array("GET /admin HTTP/1.1\r\nHost: app\r\n\r\n".utf8), keepOpen: true)
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true || d.client.responses[id]?.resetReceived != nil })
        #expect(d.client.responses[id]?.status == 400, "\(String(describing: d.client.responses[id]))")
        #expect(Self.json(d, id)?["error"] as? String == "bad_request")
        #expect(upstream.connections == 0)
    }
}
