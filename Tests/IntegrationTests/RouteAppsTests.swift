import Foundation
import GatewayConfig
import Testing

/// `routes[].apps` and `identity_headers.client_id` over real sockets: two apps, a route only app A's tokens pass,
/// the client id injected, and client-sent copies of it removed on every route, over HTTP/1.1 and HTTP/2.
@Suite final class RouteAppsTests {
    static let otherApp = "other-app"
    static let otherSecret = "other-app-secret"
    static let header = "X-Shopify-Client-Id"
    let stack: TestStack

    /// One loop, so a token accepted once is in the verified-token cache that every later request of a test meets.
    init() throws {
        stack = try TestStack(loops: 1) { c in
            c.apps.append(AppConfig(clientId: Self.otherApp, secrets: [Secret(source: .value, bytes: Array(Self.otherSecret.utf8))]))
            var onlyA = RouteConfig(pathPrefix: "/a-only", upstream: "app")
            onlyA.apps = [TestStack.clientId]
            var maybeA = RouteConfig(pathPrefix: "/a-maybe", upstream: "app", auth: .optional)
            maybeA.apps = [TestStack.clientId]
            var reusable = RouteConfig(pathPrefix: "/reusable", upstream: "app")
            reusable.replay = .off
            c.routes.insert(contentsOf: [onlyA, maybeA, reusable], at: 0)
            c.identityHeaders.clientId = Self.header
        }
    }

    deinit { stack.stop() }

    /// A valid token of the second app (a fresh `jti` each call).
    static func otherToken() -> String { Tok.valid(clientId: otherApp, secret: Array(otherSecret.utf8)) }

    @Test func theListedAppPassesWithItsClientIdInjected() throws {
        let r = try stack.send("GET", "/a-only/x", token: Tok.valid())
        #expect(r.status == 200)
        #expect(r.echoedHeaders["x-shopify-client-id"] == TestStack.clientId)
        #expect(r.echoedHeaders["x-shop-domain"] == "a.myshopify.com")
    }

    @Test func anotherAppsTokenIsUnknownAudienceAndKeepsItsJTI() throws {
        let token = Self.otherToken()
        let refused = try stack.send("GET", "/a-only/x", token: token, headers: [("Origin", "null")])
        expectAnswer(refused, status: 401, code: "unknown_audience")
        #expect(refused.header("WWW-Authenticate") == #"Bearer error="invalid_token", error_description="unknown_audience""#)
        #expect(refused.header("X-Shopify-Retry-Invalid-Session-Request") == "1")
        #expect(refused.header("Access-Control-Allow-Origin") == "*")
        #expect(refused.header("Access-Control-Expose-Headers")?.contains("X-Shopify-Retry-Invalid-Session-Request") == true)
        // The refusal came before the replay admit: the same token still works once on a single-use route.
        let passed = try stack.send("GET", "/private", token: token)
        #expect(passed.status == 200, "the jti was burned by the refused request: \(passed.bodyText)")
        #expect(passed.echoedHeaders["x-shopify-client-id"] == Self.otherApp)
        expectAnswer(try stack.send("GET", "/private", token: token), status: 401, code: "token_replayed")
        stack.gateway.flushLogs()
        let refusedLine = stack.log.all.first { $0.contains(#""path":"/a-only/x""#) }
        #expect(refusedLine?.contains(#""auth":"unknown_audience""#) == true, "\(stack.log.all)")
    }

    @Test func optionalRestrictedRouteTakesAnonymousAndTheListedAppOnly() throws {
        let anonymous = try stack.send("GET", "/a-maybe/x")
        #expect(anonymous.status == 200)
        #expect(anonymous.echoedHeaders["x-shopify-client-id"] == nil)
        #expect(try stack.send("GET", "/a-maybe/x", token: Tok.valid()).echoedHeaders["x-shopify-client-id"] == TestStack.clientId)
        expectAnswer(try stack.send("GET", "/a-maybe/x", token: Self.otherToken()), status: 401, code: "unknown_audience")
    }

    /// The verified-token cache keeps verdicts, not route decisions: a cached token of app B still fails A's route.
    @Test func aCachedTokenOfAnotherAppStillFailsTheRestrictedRoute() throws {
        let token = Self.otherToken()
        #expect(try stack.send("GET", "/reusable/1", token: token).status == 200)
        expectAnswer(try stack.send("GET", "/a-only/x", token: token), status: 401, code: "unknown_audience")
        let again = try stack.send("GET", "/reusable/2", token: token)
        #expect(again.status == 200)
        #expect(again.echoedHeaders["x-shopify-client-id"] == Self.otherApp)
    }

    static let spoofs: [(String, String)] = [
        ("X-Shopify-Client-Id", "evil-1"), ("x-shopify-client-id", "evil-2"), ("X_Shopify_Client_Id", "evil-3"),
        ("x_shopify_client_id", "evil-4"), ("X-SHOPIFY-CLIENT-ID", "evil-5"),
    ]

    @Test(arguments: ["/public/x", "/optional/x", "/private/x"])
    func spoofedClientIdsNeverReachTheBackend(path: String) throws {
        let token: String? = path.hasPrefix("/public") ? nil : Self.otherToken()
        let r = try stack.send("GET", path, token: token, headers: Self.spoofs + Self.spoofs)
        #expect(r.status == 200)
        #expect(!r.echoedHeaders.keys.contains { $0.contains("_") }, "underscore spelling forwarded: \(r.echoedHeaders)")
        // The echo backend joins repeated fields with ", ", so a spoofed copy next to the injected one would show.
        #expect(r.echoedHeaders["x-shopify-client-id"] == (token == nil ? nil : Self.otherApp))
        #expect(!r.bodyText.contains("evil-"), "\(r.bodyText)")
    }

    @Test func spoofedClientIdsNeverReachTheBackendOverHTTP2() throws {
        // HTTP/2 field names are lower case (nghttp2 resets a stream with upper-case ones), so the spellings left to
        // try are `-` and `_`, each sent twice.
        let spoofs = [("x-shopify-client-id", "evil-1"), ("x_shopify_client_id", "evil-2"),
                      ("x-shopify-client-id", "evil-3"), ("x_shopify_client_id", "evil-4")]
        let d = try H2Driver(port: stack.port)
        var expected: [Int32: String?] = [:]
        for (path, token, app) in [("/public/x", nil, nil), ("/optional/x", nil, nil), ("/optional/x", Tok.valid(), TestStack.clientId),
                                   ("/private/x", Self.otherToken(), Self.otherApp), ("/a-only/x", Tok.valid(), TestStack.clientId)] {
            let auth = token.map { [("authorization", "Bearer \($0)")] } ?? []
            expected[d.client.request(h2Get(path, auth + spoofs))] = app
        }
        #expect(d.pump { d.client.responses.values.filter(\.endStreamReceived).count == expected.count })
        for (id, app) in expected {
            let response = try #require(d.client.responses[id])
            #expect(response.status == 200, "stream \(id)")
            let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            let headers = try #require(json?["headers"] as? [String: String])
            #expect(headers["x-shopify-client-id"] == app, "stream \(id): \(headers)")
            #expect(!headers.keys.contains { $0.contains("_") }, "stream \(id): \(headers)")
        }
    }
}
