import GatewayAuth
import GatewayConfig
import GatewayCore
import Testing
@testable import GatewayProxy

/// The contract's HTTP/2 rules the gate enforces, on heads shaped as HTTP2ServerSession delivers them: pseudo-headers
/// in `method`/`target`/`authority`/`extendedProtocol`, lower-case regular fields in `headers`.
@Suite struct RequestGateHTTP2Tests {
    let gate = Fixture.gate([
        Fixture.route("/public", auth: .none),
        Fixture.route("/", methods: ["GET", "POST", "CONNECT"]),
    ])

    /// A head as the HTTP/2 session builds it (no `host` field unless given, `:path` absent when `target` is empty).
    static func h2(_ method: String = "GET", _ target: String = "/public", _ fields: [(String, String)] = [],
                   authority: String? = "gw.example", protocol proto: String? = nil) -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: target, version: .http2, headers: HTTPHeaders(fields),
                        authority: authority, extendedProtocol: proto)
    }

    // MARK: CONNECT

    /// nghttp2 lets a plain CONNECT through (`:method` and `:authority` only, RFC 9113 8.5).
    @Test func plainConnectIsBadRequest() {
        let d = gate.evaluate(Self.h2("CONNECT", "", authority: "upstream.example:443"), client: Fixture.client)
        #expect(d.answer?.status == 400)
        #expect(d.answer?.code == "bad_request")
        #expect(d.plan == nil)
    }

    @Test(arguments: ["/public/chat", "/chat"])
    func connectWithAnotherProtocolIsBadRequest(_ path: String) {
        for proto in ["webtransport", "connect-udp", "websocket2"] {
            let d = gate.evaluate(Self.h2("CONNECT", path, [("authorization", "Bearer customer")], protocol: proto),
                                  client: Fixture.client)
            #expect(d.answer?.code == "bad_request", "\(proto) on \(path)")
        }
    }

    /// A CONNECT with a path but no `:protocol` never reaches the session (nghttp2 resets it); the gate refuses it
    /// too, so the rule does not depend on the library.
    @Test func connectWithAPathButNoProtocolIsBadRequest() {
        let d = gate.evaluate(Self.h2("CONNECT", "/public/x"), client: Fixture.client)
        #expect(d.answer?.code == "bad_request")
    }

    @Test func extendedConnectWebsocketStillForwards() throws {
        for proto in ["websocket", "WebSocket"] {
            let plan = try #require(gate.evaluate(Self.h2("CONNECT", "/public/chat", protocol: proto),
                                                  client: Fixture.client).plan)
            #expect(plan.isWebSocketUpgrade)
        }
    }

    // MARK: host and :authority

    @Test func hostDifferingFromAuthorityIsBadRequest() {
        let d = gate.evaluate(Self.h2("GET", "/public", [("host", "other.example")]), client: Fixture.client)
        #expect(d.answer?.code == "bad_request")
        let port = gate.evaluate(Self.h2("GET", "/public", [("host", "gw.example:8443")]), client: Fixture.client)
        #expect(port.answer?.code == "bad_request")
    }

    @Test func hostEqualToAuthorityIgnoringCaseIsForwardedOnce() throws {
        let plan = try #require(gate.evaluate(Self.h2("GET", "/public", [("host", "GW.Example")]), client: Fixture.client).plan)
        #expect(plan.values("Host") == ["GW.Example"])
        #expect(plan.values("X-Forwarded-Host") == ["gw.example"])
    }

    @Test func hostWithoutAuthorityIsForwarded() throws {
        let plan = try #require(gate.evaluate(Self.h2("GET", "/public", [("host", "gw.example")], authority: nil),
                                              client: Fixture.client).plan)
        #expect(plan.values("Host") == ["gw.example"])
    }

    /// Two `host` fields are ambiguous whatever `:authority` says (HTTP/1.1 refuses a repeated `Host` too).
    @Test func severalHostFieldsAreBadRequest() {
        let same = [("host", "gw.example"), ("host", "gw.example")]
        #expect(gate.evaluate(Self.h2("GET", "/public", same), client: Fixture.client).answer?.code == "bad_request")
        #expect(gate.evaluate(Self.h2("GET", "/public", same, authority: nil), client: Fixture.client).answer?.code
                == "bad_request")
    }

    // MARK: cookie

    @Test func severalCookieFieldsAreJoinedIntoOne() throws {
        let fields = [("cookie", "a=1"), ("accept", "*/*"), ("cookie", "b=2"), ("cookie", "c=3; d=4")]
        let plan = try #require(gate.evaluate(Self.h2("GET", "/public", fields), client: Fixture.client).plan)
        #expect(plan.values("Cookie") == ["a=1; b=2; c=3; d=4"])
        #expect(plan.values("accept") == ["*/*"])
    }

    @Test func emptyCookieCrumbsAddNoSeparator() throws {
        let fields = [("cookie", ""), ("cookie", "a=1"), ("cookie", ""), ("cookie", "b=2")]
        let plan = try #require(gate.evaluate(Self.h2("GET", "/public", fields), client: Fixture.client).plan)
        #expect(plan.values("Cookie") == ["a=1; b=2"])
    }

    @Test func oneCookieFieldIsLeftAsItIs() throws {
        let plan = try #require(gate.evaluate(Self.h2("GET", "/public", [("cookie", "a=1;b=2")]), client: Fixture.client).plan)
        #expect(plan.values("Cookie") == ["a=1;b=2"])
        let none = try #require(gate.evaluate(Self.h2("GET", "/public"), client: Fixture.client).plan)
        #expect(none.values("Cookie").isEmpty)
    }

    /// RFC 9113 8.2.3 is about HTTP/2 crumbs; an HTTP/1.1 head is forwarded with its fields as sent.
    @Test func http1CookieFieldsAreNotTouched() throws {
        let head = Fixture.head("GET", "/public", [("Cookie", "a=1"), ("Cookie", "b=2")])
        let plan = try #require(gate.evaluate(head, client: Fixture.client).plan)
        #expect(plan.values("Cookie") == ["a=1", "b=2"])
    }
}
