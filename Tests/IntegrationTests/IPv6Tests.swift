import Foundation
import GatewayConfig
import GatewayCore
import Testing

/// The gateway listening on `[::1]:0`: clients over IPv6, the echo upstream on 127.0.0.1.
@Suite("IPv6 listener", .serialized)
struct IPv6Tests {
    static func stack() throws -> TestStack {
        try TestStack(loops: 1) { c in
            c.listeners = [ListenerConfig(address: "[::1]:0")]
            c.admin = AdminConfig(address: "[::1]:0")
        }
    }

    @Test("binds [::1]:0 and reports the bound IPv6 address")
    func bindsV6() throws {
        let stack = try Self.stack()
        defer { stack.stop() }
        let address = stack.gateway.listenerAddresses[0]
        #expect(address.ipString == "::1")
        #expect(address.port > 0)
        #expect(address.description == "[::1]:\(address.port)")
        #expect(stack.gateway.adminAddress?.ipString == "::1")
    }

    @Test("serves a request end to end over IPv6; X-Forwarded-For is ::1")
    func endToEnd() throws {
        let stack = try Self.stack()
        defer { stack.stop() }
        let client = try IPv6Client(port: stack.port)
        client.send(httpRequest("GET", "/public/v6?q=1"))
        let r = try #require(client.readResponse())
        #expect(r.status == 200)
        #expect(r.json?["path"] as? String == "/public/v6?q=1")
        #expect(r.echoedHeaders["x-forwarded-for"] == "::1")
        #expect(r.echoedHeaders["x-forwarded-proto"] == "http")
        #expect(r.echoedHeaders["x-forwarded-host"] == "gw.test")
        #expect(!(r.header("X-Request-Id") ?? "").isEmpty)

        // The same connection stays open for an authorized request; a client's X-Forwarded-For is replaced by ::1
        // (no trusted_proxies).
        client.send(httpRequest("GET", "/orders", token: Tok.valid(shop: "v6.myshopify.com"),
                                headers: [("X-Forwarded-For", "203.0.113.9")]))
        let authed = try #require(client.readResponse())
        #expect(authed.status == 200)
        #expect(authed.echoedHeaders["x-shop-domain"] == "v6.myshopify.com")
        #expect(authed.echoedHeaders["x-customer-id"] == "gid://shopify/Customer/42")
        #expect(authed.echoedHeaders["x-forwarded-for"] == "::1")
    }

    @Test("gateway answers over IPv6 carry the usual shape")
    func answersAndFamily() throws {
        let stack = try Self.stack()
        defer { stack.stop() }
        let client = try IPv6Client(port: stack.port)
        client.send(httpRequest("GET", "/orders"))
        expectAnswer(client.readResponse(), status: 401, code: "missing_token")
        client.send(httpRequest("GET", "/orders", token: "not.a.token"))
        expectAnswer(client.readResponse(), status: 401, code: "malformed_token")
    }

    @Test("admin endpoints answer over IPv6")
    func adminOverV6() throws {
        let stack = try Self.stack()
        defer { stack.stop() }
        let port = try #require(stack.adminPort)
        let client = try IPv6Client(port: port)
        client.send(httpRequest("GET", "/readyz"))
        #expect(client.readResponse()?.status == 200)
        client.send(httpRequest("GET", "/healthz"))
        #expect(client.readResponse()?.status == 200)
    }
}
