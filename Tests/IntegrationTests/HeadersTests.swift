import Foundation
import GatewayConfig
import Testing

/// What reaches the backend: identity headers only from the gateway, forwarding headers, request ids, CORS, logs.
@Suite final class HeadersTests {
    let stack: TestStack

    init() throws { stack = try TestStack() }
    deinit { stack.stop() }

    static let spoofs: [(String, String)] = [
        ("X-Shop-Domain", "evil.myshopify.com"), ("x-shop-domain", "evil2.myshopify.com"), ("X-SHOP-DOMAIN", "evil3"),
        ("X-Customer-Id", "gid://shopify/Customer/666"), ("x-customer-id", "667"), ("X_Customer_Id", "668"),
        ("x_shop_domain", "evil4"), ("X-Staff-User-Id", "1"), ("x_staff_user_id", "2"), ("X-Staff_User-Id", "3"),
    ]

    @Test(arguments: ["/public/x", "/optional/x", "/private/x"])
    func spoofedIdentityHeadersNeverReachTheBackend(path: String) throws {
        let token: String? = path.hasPrefix("/public") ? nil : Tok.valid()
        let r = try stack.send("GET", path, token: token, headers: Self.spoofs + Self.spoofs)
        #expect(r.status == 200)
        for name in r.echoedHeaders.keys {
            #expect(!name.contains("_"), "underscore spelling forwarded: \(name)")
        }
        // The echo backend joins repeated fields with ", ", so any spoofed copy would show in these values.
        if token != nil {
            #expect(r.echoedHeaders["x-shop-domain"] == "a.myshopify.com")
            #expect(r.echoedHeaders["x-customer-id"] == "gid://shopify/Customer/42")
        } else {
            #expect(r.echoedHeaders["x-shop-domain"] == nil)
            #expect(r.echoedHeaders["x-customer-id"] == nil)
        }
        #expect(r.echoedHeaders["x-staff-user-id"] == nil)
    }

    @Test func connectionHeaderCannotRemoveInjectedIdentity() throws {
        let r = try stack.send("GET", "/private/x", token: Tok.valid(),
                               headers: [("Connection", "X-Shop-Domain, X-Customer-Id, X-Forwarded-For, X-Request-Id, keep-alive")])
        #expect(r.status == 200)
        #expect(r.echoedHeaders["x-shop-domain"] == "a.myshopify.com")
        #expect(r.echoedHeaders["x-customer-id"] == "gid://shopify/Customer/42")
        #expect(r.echoedHeaders["x-forwarded-for"] == "127.0.0.1")
        #expect(r.echoedHeaders["x-request-id"] != nil)
        #expect(r.echoedHeaders["connection"] == nil || !(r.echoedHeaders["connection"] ?? "").lowercased().contains("shop"))
    }

    @Test func headersNamedInConnectionAreDropped() throws {
        let r = try stack.send("GET", "/public/x", headers: [("Connection", "X-Secret-Hop"), ("X-Secret-Hop", "1"), ("Keep-Alive", "timeout=5"),
                                                             ("Proxy-Connection", "keep-alive"), ("TE", "trailers")])
        #expect(r.echoedHeaders["x-secret-hop"] == nil)
        #expect(r.echoedHeaders["keep-alive"] == nil)
        #expect(r.echoedHeaders["proxy-connection"] == nil)
    }

    @Test func adminTokenStaffIdGoesToStaffHeaderOnly() throws {
        let token = Tok.claims([("iss", .string("https://a.myshopify.com/admin")), ("dest", .string("https://a.myshopify.com")),
                                ("aud", .string(TestStack.clientId)), ("exp", .int(Tok.now + 60)), ("nbf", .int(Tok.now)),
                                ("iat", .int(Tok.now)), ("jti", .string(UUID().uuidString)), ("sub", .string("4242")),
                                ("sid", .string("abc"))])
        let r = try stack.send("GET", "/private/x", token: token, headers: [("X-Staff-User-Id", "1")])
        #expect(r.status == 200)
        #expect(r.echoedHeaders["x-shop-domain"] == "a.myshopify.com")
        #expect(r.echoedHeaders["x-staff-user-id"] == "4242")
        #expect(r.echoedHeaders["x-customer-id"] == nil)
    }

    @Test func forwardedHeaders() throws {
        let r = try stack.send("GET", "/public/x", headers: [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https"),
                                                             ("X-Forwarded-Host", "spoof.example")])
        // No trusted_proxies: the client's fields are replaced.
        #expect(r.echoedHeaders["x-forwarded-for"] == "127.0.0.1")
        #expect(r.echoedHeaders["x-forwarded-proto"] == "http")
        #expect(r.echoedHeaders["x-forwarded-host"] == "gw.test")
        #expect(r.echoedHeaders["host"] == "gw.test")
    }

    @Test func saneRequestIdIsKeptAndEchoed() throws {
        let r = try stack.send("GET", "/public/x", headers: [("X-Request-Id", "abc-123_DEF")])
        #expect(r.echoedHeaders["x-request-id"] == "abc-123_DEF")
        #expect(r.header("X-Request-Id") == "abc-123_DEF")
        #expect(r.headers("X-Request-Id").count == 1)
    }

    @Test(arguments: ["has space", String(repeating: "x", count: 300), "quote\"d", ""])
    func insaneRequestIdIsReplaced(id: String) throws {
        let r = try stack.send("GET", "/public/x", headers: [("X-Request-Id", id)])
        let generated = try #require(r.header("X-Request-Id"))
        #expect(generated != id)
        #expect(!generated.isEmpty)
        #expect(r.echoedHeaders["x-request-id"] == generated)
    }

    @Test func generatedRequestIdOnAnswersToo() throws {
        let a = try stack.send("GET", "/private/x")
        let b = try stack.send("GET", "/private/x")
        let ida = try #require(a.header("X-Request-Id"))
        let idb = try #require(b.header("X-Request-Id"))
        #expect(ida != idb)
        #expect(try stack.send("GET", "/private/x", headers: [("X-Request-Id", "mine-1")]).header("X-Request-Id") == "mine-1")
    }

    @Test func h2cUpgradeIsNeverForwarded() throws {
        let r = try stack.send("GET", "/public/x", headers: [("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
                                                             ("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA")])
        #expect(r.status == 200)
        #expect(r.echoedHeaders["upgrade"] == nil)
        #expect(r.echoedHeaders["http2-settings"] == nil)
        #expect(r.echoedHeaders["connection"] == nil)
    }

    @Test func forwardTokenFalseStripsAuthorization() throws {
        let s = try TestStack { $0.identityHeaders.forwardToken = false }
        defer { s.stop() }
        let r = try s.send("GET", "/private/x", token: Tok.valid())
        #expect(r.status == 200)
        #expect(r.echoedHeaders["authorization"] == nil)
        let kept = try stack.send("GET", "/private/x", token: Tok.valid())
        #expect(kept.echoedHeaders["authorization"]?.hasPrefix("Bearer ") == true)
    }

    // MARK: CORS

    @Test(arguments: ["https://extensions.shopifycdn.com", "null"])
    func preflightIsAnsweredWithoutToken(origin: String) throws {
        let r = try stack.send("OPTIONS", "/private/x", headers: [("Origin", origin), ("Access-Control-Request-Method", "POST"),
                                                                  ("Access-Control-Request-Headers", "authorization")])
        #expect(r.status == 204)
        #expect(r.header("Access-Control-Allow-Origin") == "*")
        #expect(r.header("Access-Control-Allow-Methods")?.contains("POST") == true)
        #expect(r.header("Access-Control-Allow-Headers")?.contains("Authorization") == true)
        #expect(r.header("Access-Control-Max-Age") == "7200")
        #expect(r.body.isEmpty)
    }

    @Test(arguments: ["https://extensions.shopifycdn.com", "null"])
    func corsHeadersOnA401(origin: String) throws {
        let r = try stack.send("GET", "/private/x", token: Tok.valid(iat: Tok.now - 1000), headers: [("Origin", origin)])
        expectAnswer(r, status: 401, code: "token_expired")
        #expect(r.header("Access-Control-Allow-Origin") == "*")
        #expect(r.header("Access-Control-Expose-Headers")?.contains("X-Shopify-Retry-Invalid-Session-Request") == true)
        #expect(r.header("X-Shopify-Retry-Invalid-Session-Request") == "1")
    }

    @Test func corsHeadersOnForwardedResponse() throws {
        let r = try stack.send("GET", "/private/x", token: Tok.valid(), headers: [("Origin", "null")])
        #expect(r.status == 200)
        #expect(r.header("Access-Control-Allow-Origin") == "*")
    }

    @Test func listedOriginsOnly() throws {
        let s = try TestStack { $0.cors.allowOrigins = ["https://good.example"] }
        defer { s.stop() }
        let good = try s.send("GET", "/private/x", headers: [("Origin", "https://good.example")])
        #expect(good.header("Access-Control-Allow-Origin") == "https://good.example")
        let bad = try s.send("GET", "/private/x", headers: [("Origin", "https://evil.example")])
        #expect(bad.header("Access-Control-Allow-Origin") == nil)
    }

    // MARK: logs

    @Test func accessLogHoldsNoTokenOrSignature() throws {
        let good = Tok.valid()
        let expired = Tok.valid(iat: Tok.now - 1000)
        let badSig = Tok.valid(secret: Array("nope".utf8))
        _ = try stack.send("GET", "/private/x", token: good)
        _ = try stack.send("GET", "/private/x", token: good)
        _ = try stack.send("GET", "/private/x", token: expired)
        _ = try stack.send("GET", "/private/x", token: badSig)
        _ = try stack.send("GET", "/public/x?id_token=\(good)")
        stack.gateway.flushLogs()
        let lines = stack.log.all
        #expect(lines.count >= 5, "access log lines: \(lines)")
        for token in [good, expired, badSig] {
            for line in lines {
                #expect(!line.contains(token), "token in log: \(line)")
                #expect(!line.contains(Tok.signature(token)), "signature in log: \(line)")
                #expect(!line.contains(TestStack.secret))
            }
        }
    }
}
