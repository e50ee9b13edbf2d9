import GatewayAuth
import GatewayConfig
import GatewayCore
import Testing
@testable import GatewayProxy

@Suite struct RequestGateHeaderTests {
    let gate = Fixture.gate([
        Fixture.route("/public", auth: .none),
        Fixture.route("/", methods: ["GET", "POST"]),
    ])
    let token = ("Authorization", "Bearer customer")

    private let spoofed: [(String, String)] = [
        ("X-Shop-Domain", "evil.myshopify.com"), ("x-shop-domain", "evil2"), ("X-SHOP-DOMAIN", "evil3"),
        ("X_Shop_Domain", "evil4"), ("x_customer_id", "1"), ("X-Customer_Id", "2"), ("X-Customer-Id", "3"),
        ("X-Staff-User-Id", "9"), ("X_STAFF_USER_ID", "9"),
    ]

    @Test func identityFieldsAreStrippedOnAuthRoutes() throws {
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/x", spoofed + [token]), client: Fixture.client).plan)
        #expect(plan.values("X-Shop-Domain") == ["store.myshopify.com"])
        #expect(plan.values("X-Customer-Id") == ["gid://shopify/Customer/123"])
        #expect(plan.values("X-Staff-User-Id").isEmpty)
        #expect(!plan.names.contains { $0.contains("_") })
    }

    @Test func identityFieldsAreStrippedOnAuthNoneRoutes() throws {
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/public", spoofed), client: Fixture.client).plan)
        for name in ["x-shop-domain", "x-customer-id", "x-staff-user-id"] {
            #expect(!plan.names.contains { $0.replacingOccurrences(of: "_", with: "-") == name })
        }
    }

    @Test func customIdentityNamesAreStripped() throws {
        let g = Fixture.gate([Fixture.route("/", auth: .none)]) { $0.identityHeaders.shopDomain = "X-Tenant" }
        let plan = try #require(g.evaluate(Fixture.head("GET", "/", [("x_tenant", "evil"), ("X-Tenant", "evil")]),
                                           client: Fixture.client).plan)
        #expect(plan.value("X-Tenant") == nil)
    }

    /// Names are looked up by length; one longer than that table still goes, in both spellings.
    @Test func longCustomIdentityNameIsStripped() throws {
        let long = "X-" + String(repeating: "Tenant-", count: 12) + "Id"
        let g = Fixture.gate([Fixture.route("/", auth: .none)]) { $0.identityHeaders.customerId = long }
        let spoofed = [(long.replacingOccurrences(of: "-", with: "_"), "evil"), (long.lowercased(), "evil")]
        let plan = try #require(g.evaluate(Fixture.head("GET", "/", spoofed), client: Fixture.client).plan)
        #expect(long.utf8.count > 64)
        #expect(!plan.names.contains { $0.replacingOccurrences(of: "_", with: "-").lowercased() == long.lowercased() })
    }

    @Test func connectionNamedFieldsAreDroppedButCannotRemoveInjectedOnes() throws {
        let fields = [("Connection", "keep-alive, X-Shop-Domain, X-Trace"), ("connection", "x-request-id , X-Forwarded-For"),
                      ("X-Trace", "1"), ("X-Other", "kept"), ("X-Forwarded-For", "10.0.0.1"), ("X-Request-Id", "client-id"), token]
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/x", fields), client: Fixture.client).plan)
        #expect(plan.value("X-Trace") == nil)
        #expect(plan.value("X-Other") == "kept")
        #expect(plan.values("X-Shop-Domain") == ["store.myshopify.com"])
        #expect(plan.values("X-Forwarded-For") == ["203.0.113.7"])
        #expect(plan.values("X-Request-Id") == [plan.requestId])
        #expect(plan.value("Connection") == nil)
    }

    @Test func connectionCannotDropHost() throws {
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/public", [("Connection", "Host")]), client: Fixture.client).plan)
        #expect(plan.value("Host") == "gw.example")
    }

    @Test func hopByHopAndFramingFieldsAreDropped() throws {
        let fields = [("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"), ("TE", "trailers"),
                      ("Proxy-Authorization", "Basic x"), ("Transfer-Encoding", "chunked"), ("Content-Length", "5"),
                      ("Content_Length", "7"), ("Upgrade", "h2c"), ("Connection", "Upgrade, HTTP2-Settings"),
                      ("HTTP2-Settings", "AAMAAABkAAQAAP__"), ("Content-Type", "text/plain")]
        let plan = try #require(gate.evaluate(Fixture.head("POST", "/public", fields), client: Fixture.client).plan)
        #expect(Set(plan.names) == ["host", "content-type", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id"])
        #expect(!plan.isWebSocketUpgrade)
    }

    @Test func h2cIsNeverForwardedEvenAlongsideWebsocketOnPost() throws {
        let plan = try #require(gate.evaluate(Fixture.head("POST", "/public", [("Upgrade", "websocket"), ("Connection", "upgrade")]),
                                              client: Fixture.client).plan)
        #expect(!plan.isWebSocketUpgrade)
        #expect(plan.value("Upgrade") == nil)
        let h2c = try #require(gate.evaluate(Fixture.head("GET", "/public", [("Upgrade", "h2c"), ("Connection", "Upgrade")]),
                                             client: Fixture.client).plan)
        #expect(h2c.value("Upgrade") == nil)
        #expect(!h2c.isWebSocketUpgrade)
    }

    @Test func websocketUpgradeIsKept() throws {
        let fields = [("Connection", "keep-alive, Upgrade"), ("Upgrade", "WebSocket"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                      ("Sec-WebSocket-Version", "13"), token]
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/ws", fields), client: Fixture.client).plan)
        #expect(plan.isWebSocketUpgrade)
        #expect(plan.values("Upgrade") == ["websocket"])
        #expect(plan.values("Connection") == ["upgrade"])
        #expect(plan.value("Sec-WebSocket-Key") == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(plan.value("X-Shop-Domain") == "store.myshopify.com")
        // Without the Connection token it is an ordinary request.
        let noToken = try #require(gate.evaluate(Fixture.head("GET", "/ws", [("Upgrade", "websocket"), token]),
                                                 client: Fixture.client).plan)
        #expect(!noToken.isWebSocketUpgrade)
        #expect(noToken.value("Upgrade") == nil)
    }

    @Test func websocketStillNeedsAToken() {
        let d = gate.evaluate(Fixture.head("GET", "/ws", [("Connection", "Upgrade"), ("Upgrade", "websocket")]), client: Fixture.client)
        #expect(d.answer?.code == "missing_token")
    }

    @Test func http2ExtendedConnectWebsocket() throws {
        var head = Fixture.head("CONNECT", "/public/chat", [], version: .http2, host: nil)
        head.authority = "gw.example"
        head.extendedProtocol = "websocket"
        let plan = try #require(gate.evaluate(head, client: Fixture.client).plan)
        #expect(plan.isWebSocketUpgrade)
        #expect(plan.value("Upgrade") == nil)
        #expect(plan.value("Host") == "gw.example")
    }

    @Test func forwardedFieldsFromAnUntrustedPeerAreReplaced() throws {
        let fields = [("X-Forwarded-For", "198.51.100.1"), ("x-forwarded-for", "198.51.100.2"), ("X_Forwarded_For", "6.6.6.6"),
                      ("X-Forwarded-Proto", "http"), ("X-Forwarded-Host", "evil.example"), ("x_forwarded_host", "evil")]
        let tls = ClientInfo(remoteAddress: "2001:db8::1", isTLS: true)
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/public", fields), client: tls).plan)
        #expect(plan.values("X-Forwarded-For") == ["2001:db8::1"])
        #expect(plan.values("X-Forwarded-Proto") == ["https"])
        #expect(plan.values("X-Forwarded-Host") == ["gw.example"])
        #expect(!plan.names.contains { $0.contains("_") })
        let plain = try #require(gate.evaluate(Fixture.head("GET", "/public", [("X-Forwarded-Proto", "https")]),
                                               client: Fixture.client).plan)
        #expect(plain.values("X-Forwarded-For") == ["203.0.113.7"])
        #expect(plain.values("X-Forwarded-Proto") == ["http"])
    }

    @Test func forwardedFieldsFromATrustedPeerAreCarriedOn() throws {
        let fields = [("X-Forwarded-For", "198.51.100.1"), ("x-forwarded-for", "198.51.100.2"), ("X_Forwarded_For", "6.6.6.6"),
                      ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "shop.example"), ("x_forwarded_host", "evil")]
        let lb = ClientInfo(remoteAddress: "10.0.0.5", isTLS: false, peerTrusted: true)
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/public", fields), client: lb).plan)
        #expect(plan.values("X-Forwarded-For") == ["198.51.100.1, 198.51.100.2, 10.0.0.5"])
        #expect(plan.values("X-Forwarded-Proto") == ["https"])
        #expect(plan.values("X-Forwarded-Host") == ["shop.example"])
        #expect(!plan.names.contains { $0.contains("_") })
        // Absent fields are set as for any peer.
        let bare = try #require(gate.evaluate(Fixture.head("GET", "/public", []), client: lb).plan)
        #expect(bare.values("X-Forwarded-For") == ["10.0.0.5"])
        #expect(bare.values("X-Forwarded-Proto") == ["http"])
        #expect(bare.values("X-Forwarded-Host") == ["gw.example"])
    }

    @Test func http2RequestGetsHostFromAuthority() throws {
        var head = Fixture.head("GET", "/public", [], version: .http2, host: nil)
        head.authority = "shop.example:8443"
        let plan = try #require(gate.evaluate(head, client: Fixture.client).plan)
        #expect(plan.values("Host") == ["shop.example:8443"])
        #expect(plan.values("X-Forwarded-Host") == ["shop.example:8443"])
    }

    @Test func requestIdKeptWhenSane() throws {
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/public", [("X-Request-Id", "abc-123")]), client: Fixture.client).plan)
        #expect(plan.requestId == "abc-123")
        #expect(plan.values("X-Request-Id") == ["abc-123"])
    }

    @Test func requestIdGeneratedWhenAbsentOrInsane() throws {
        let absent = try #require(gate.evaluate(Fixture.head("GET", "/public"), client: Fixture.client).plan)
        #expect(absent.requestId.utf8.count == RequestId.generatedLength)
        #expect(absent.values("X-Request-Id") == [absent.requestId])
        let insane = try #require(gate.evaluate(Fixture.head("GET", "/public", [("X-Request-Id", "a b<script>")]),
                                                client: Fixture.client).plan)
        #expect(insane.requestId != "a b<script>")
        #expect(insane.values("X-Request-Id") == [insane.requestId])
        let answered = gate.evaluate(Fixture.head("GET", "/x", [("X-Request-Id", "keep.me")]), client: Fixture.client)
        #expect(answered.requestId == "keep.me")
    }

    @Test func preflightIsAnsweredWithoutToken() throws {
        let fields = [("Origin", "null"), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "authorization")]
        let d = gate.evaluate(Fixture.head("OPTIONS", "/x", fields), client: Fixture.client)
        let answer = try #require(d.answer)
        #expect(answer.status == 204)
        #expect(d.answerOrigin == nil)  // the answer carries its own CORS fields
        let h = Dictionary(uniqueKeysWithValues: answer.headers)
        #expect(h["Access-Control-Allow-Origin"] == "*")
        #expect(h["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS")
        #expect(h["Access-Control-Allow-Headers"] == "Authorization, Content-Type")
        #expect(h["Access-Control-Max-Age"] == "7200")
        #expect(d.routeIndex == 1)
    }

    @Test func preflightToUnroutedPathIs404() {
        let g = Fixture.gate([Fixture.route("/api")])
        let d = g.evaluate(Fixture.head("OPTIONS", "/other", [("Origin", "null"), ("Access-Control-Request-Method", "GET")]),
                           client: Fixture.client)
        #expect(d.answer?.code == "no_route")
        #expect(d.answerOrigin == "null")
    }

    @Test func optionsWithoutPreflightFieldsIsRoutedNormally() {
        let d = gate.evaluate(Fixture.head("OPTIONS", "/x", [("Origin", "null")]), client: Fixture.client)
        #expect(d.answer?.code == "no_route")
        let disabled = Fixture.gate([Fixture.route("/")]) { $0.cors.enabled = false }
        let p = disabled.evaluate(Fixture.head("OPTIONS", "/x", [("Origin", "null"), ("Access-Control-Request-Method", "GET")]),
                                  client: Fixture.client)
        #expect(p.answer?.code == "missing_token")
    }

    @Test func originIsPassedForForwardedResponses() throws {
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/public", [("Origin", "https://a.example")]),
                                              client: Fixture.client).plan)
        #expect(plan.origin == "https://a.example")
        #expect(plan.value("Origin") == "https://a.example")
    }
}
