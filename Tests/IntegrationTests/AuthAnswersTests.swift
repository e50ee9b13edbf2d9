import Foundation
import GatewayAuth
import GatewayConfig
import Testing

/// Every 401/403 row of the contract's answer table, over real sockets through the in-process engine.
@Suite final class AuthAnswersTests {
    let stack: TestStack

    init() throws {
        stack = try TestStack { c in
            var customer = RouteConfig(pathPrefix: "/customer", upstream: "app")
            customer.requireCustomer = true
            var reusable = RouteConfig(pathPrefix: "/reusable", upstream: "app")
            reusable.replay = .off
            c.routes.insert(contentsOf: [customer, reusable], at: 0)
        }
    }

    deinit { stack.stop() }

    @Test func missingTokenHasRealmChallengeAndNoRetryHeader() throws {
        let r = try stack.send("GET", "/private")
        expectAnswer(r, status: 401, code: "missing_token")
        #expect(r.header("WWW-Authenticate") == #"Bearer realm="session-gateway""#)
        #expect(r.header("X-Shopify-Retry-Invalid-Session-Request") == nil)
    }

    /// A token for each 401 code that the verifier decides on its own.
    static let failing: [(String, @Sendable () -> String)] = [
        ("malformed_token", { "not-a-jwt" }),
        ("malformed_token", { "a.b.c" }),
        ("unsupported_algorithm", {
            TokenMinter.sign(headerJSON: #"{"alg":"HS512","typ":"JWT"}"#,
                             payloadJSON: #"{"dest":"a.myshopify.com","aud":"test-client-id","exp":\#(Tok.now + 300)}"#,
                             secret: Tok.secret)
        }),
        ("unsupported_algorithm", {
            TokenMinter.sign(headerJSON: #"{"alg":"none","typ":"JWT"}"#,
                             payloadJSON: #"{"dest":"a.myshopify.com","aud":"test-client-id","exp":\#(Tok.now + 300)}"#,
                             secret: Tok.secret)
        }),
        ("invalid_signature", { Tok.valid(secret: Array("wrong-secret".utf8)) }),
        ("token_expired", { Tok.valid(iat: Tok.now - 1000) }),
        ("token_not_yet_valid", {
            Tok.claims([("dest", .string("a.myshopify.com")), ("aud", .string(TestStack.clientId)),
                        ("exp", .int(Tok.now + 600)), ("nbf", .int(Tok.now + 300)), ("iat", .int(Tok.now)),
                        ("jti", .string(UUID().uuidString))])
        }),
        ("token_issued_in_future", {
            Tok.claims([("dest", .string("a.myshopify.com")), ("aud", .string(TestStack.clientId)),
                        ("exp", .int(Tok.now + 600)), ("iat", .int(Tok.now + 300)), ("jti", .string(UUID().uuidString))])
        }),
        ("token_lifetime_too_long", { Tok.valid(ttl: 3600) }),
        ("unknown_audience", { Tok.valid(clientId: "some-other-app") }),
        ("issuer_mismatch", { Tok.valid(issuer: "https://b.myshopify.com/admin") }),
        ("missing_claim", {
            Tok.claims([("dest", .string("a.myshopify.com")), ("aud", .string(TestStack.clientId)),
                        ("exp", .int(Tok.now + 300)), ("nbf", .int(Tok.now)), ("iat", .int(Tok.now))])
        }),
        ("missing_claim", {
            Tok.claims([("dest", .string("a.myshopify.com")), ("aud", .string(TestStack.clientId)),
                        ("iat", .int(Tok.now)), ("jti", .string(UUID().uuidString))])
        }),
    ]

    @Test(arguments: 0..<AuthAnswersTests.failing.count)
    func rejectedTokenAnswers(index: Int) throws {
        let (code, make) = Self.failing[index]
        let token = make()
        let r = try stack.send("GET", "/private", token: token)
        expectAnswer(r, status: 401, code: code)
        #expect(r.header("WWW-Authenticate") == #"Bearer error="invalid_token", error_description="\#(code)""#)
        #expect(r.header("X-Shopify-Retry-Invalid-Session-Request") == "1")
    }

    @Test func replayedTokenIsRejectedTheSecondTime() throws {
        let token = Tok.valid()
        let first = try stack.send("GET", "/private", token: token)
        #expect(first.status == 200)
        #expect(first.echoedHeaders["x-shop-domain"] == "a.myshopify.com")
        let second = try stack.send("GET", "/private", token: token)
        expectAnswer(second, status: 401, code: "token_replayed")
        #expect(second.header("WWW-Authenticate") == #"Bearer error="invalid_token", error_description="token_replayed""#)
        #expect(second.header("X-Shopify-Retry-Invalid-Session-Request") == "1")
    }

    @Test func replayOffRoutePassesTwice() throws {
        let token = Tok.valid()
        #expect(try stack.send("GET", "/reusable/a", token: token).status == 200)
        #expect(try stack.send("GET", "/reusable/b", token: token).status == 200)
    }

    @Test func shopNotAllowed() throws {
        let r = try stack.send("GET", "/private", token: Tok.valid(shop: "evil.example.com"))
        expectAnswer(r, status: 403, code: "shop_not_allowed")
    }

    @Test func customerRequiredForAnonymousBuyer() throws {
        let r = try stack.send("GET", "/customer/orders", token: Tok.valid(customer: nil))
        expectAnswer(r, status: 403, code: "customer_required")
        let ok = try stack.send("GET", "/customer/orders", token: Tok.valid())
        #expect(ok.status == 200)
        #expect(ok.echoedHeaders["x-customer-id"] == "gid://shopify/Customer/42")
    }

    @Test func rejectedTokenDoesNotBurnItsJTI() throws {
        // Valid token, but the route turns it away before the replay store is asked.
        let token = Tok.valid(customer: nil)
        let rejected = try stack.send("GET", "/customer/x", token: token)
        expectAnswer(rejected, status: 403, code: "customer_required")
        let passed = try stack.send("GET", "/private", token: token)
        #expect(passed.status == 200, "the jti was burned by a rejected request: \(passed.bodyText)")
        // And now it is burned.
        expectAnswer(try stack.send("GET", "/private", token: token), status: 401, code: "token_replayed")
    }

    @Test func optionalRouteForwardsAnonymousButRejectsBadToken() throws {
        let anon = try stack.send("GET", "/optional/x")
        #expect(anon.status == 200)
        #expect(anon.echoedHeaders["x-shop-domain"] == nil)
        let bad = try stack.send("GET", "/optional/x", token: Tok.valid(iat: Tok.now - 1000))
        expectAnswer(bad, status: 401, code: "token_expired")
    }

    @Test func bearerSchemeIsCaseInsensitive() throws {
        let r = try stack.send("GET", "/private", headers: [("Authorization", "bEaReR " + Tok.valid())])
        #expect(r.status == 200)
    }

    @Test func dotSegmentsCannotDodgeAuth() throws {
        expectAnswer(try stack.send("GET", "/public/../private"), status: 401, code: "missing_token")
        expectAnswer(try stack.send("GET", "/public/%2e%2e/private"), status: 401, code: "missing_token")
        let ok = try stack.send("GET", "/public/./a/../b")
        #expect(ok.status == 200)
        #expect(ok.json?["path"] as? String == "/public/b")
    }
}

/// Answers that are not about the token: 404, 503 replay_store_full, and the admin endpoints in-process.
@Suite final class GatewayAnswersTests {
    @Test func noRoute() throws {
        let stack = try TestStack { c in c.routes = [RouteConfig(pathPrefix: "/api", upstream: "app", auth: .none)] }
        defer { stack.stop() }
        expectAnswer(try stack.send("GET", "/other"), status: 404, code: "no_route")
    }

    @Test func methodNotListedIsNoRoute() throws {
        let stack = try TestStack { c in
            var r = RouteConfig(pathPrefix: "/", upstream: "app", auth: .none)
            r.methods = ["GET"]
            c.routes = [r]
        }
        defer { stack.stop() }
        #expect(try stack.send("GET", "/x").status == 200)
        expectAnswer(try stack.send("DELETE", "/x"), status: 404, code: "no_route")
    }

    @Test func replayStoreFull() throws {
        let stack = try TestStack { c in c.replay.maxEntries = 1 }
        defer { stack.stop() }
        #expect(try stack.send("GET", "/private", token: Tok.valid()).status == 200)
        expectAnswer(try stack.send("GET", "/private", token: Tok.valid()), status: 503, code: "replay_store_full")
    }

    @Test func healthAndReadiness() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let admin = try #require(stack.adminPort)
        let h = try RawClient(port: admin)
        h.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /readyz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(h.readResponse()?.status == 200)
        #expect(h.readResponse()?.status == 200)
    }

    /// Starts the gateway's drain (one loop) with a request held half-read on `held`, which keeps the drain open
    /// until the test completes it; returns once the loop has begun draining.
    private func beginHeldDrain(_ stack: TestStack) throws -> (held: RawClient, drained: DispatchSemaphore) {
        let held = try RawClient(port: stack.port)
        held.send("GET /public/x HTTP/1.1\r\nHost: a\r\n")
        // One loop: a full request on another connection answered means the half head was read before it.
        let probe = try RawClient(port: stack.port)
        probe.send("GET /public/p HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(probe.readResponse()?.status == 200)
        let drained = DispatchSemaphore(value: 0)
        stack.gateway.drain(timeout: .seconds(5)) { drained.signal() }
        // flushLogs runs a block on every loop and waits for it: the drain's own block, queued first, has run.
        // (Without this, bytes sent now could be read before it: Dispatch does not order a queued block against
        // socket data that arrives later.)
        stack.gateway.flushLogs()
        return (held, drained)
    }

    /// Lets the held request finish (the loop is draining: it is served as the connection's last, with
    /// `Connection: close`), then waits for the drain to end and stops the echo backend.
    private func finishHeldDrain(_ stack: TestStack, _ held: RawClient, _ drained: DispatchSemaphore) {
        held.send("\r\n")
        let r = held.readResponse()
        #expect(r?.status == 200)
        #expect(r?.header("Connection")?.lowercased() == "close")
        #expect(held.isClosedByPeer())
        #expect(drained.wait(timeout: .now() + 10) == .success)
        let done = DispatchSemaphore(value: 0)
        stack.echo.drain(timeout: .milliseconds(100)) { done.signal() }
        done.wait()
    }

    @Test func anAdminConnectionOpenWhenTheDrainStartsStillAnswersReadyz() throws {
        // A health checker's keep-alive connection, idle at the moment the drain begins, must get the 503 that
        // tells it the gateway is going away (it used to be closed with the idle client connections).
        let stack = try TestStack(loops: 1)
        let checker = try RawClient(port: try #require(stack.adminPort))
        checker.send("GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(checker.readResponse()?.status == 200)
        let (held, drained) = try beginHeldDrain(stack)
        checker.send("GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(checker.readResponse()?.status == 503)
        finishHeldDrain(stack, held, drained)
    }

    @Test func drainingFailsReadyzAndServesTheHeldRequestAsTheLast() throws {
        let stack = try TestStack(loops: 1)
        let admin = try #require(stack.adminPort)
        let (held, drained) = try beginHeldDrain(stack)
        let ready = try RawClient(port: admin)
        ready.send("GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(ready.readResponse()?.status == 503)
        finishHeldDrain(stack, held, drained)
    }
}
