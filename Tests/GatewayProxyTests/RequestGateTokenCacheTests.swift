import GatewayAuth
import GatewayConfig
import GatewayCore
import Testing
@testable import GatewayProxy

@Suite struct RequestGateTokenCacheTests {
    private func gate(_ verifier: CountingVerifier, clock: ManualClock, skew: Int64 = 10) -> RequestGate {
        var config = GatewayConfig()
        config.routes = [Fixture.route("/", auth: .required, requireCustomer: false)]
        config.replay.mode = .off
        config.token.clockSkew = .seconds(skew)
        return RequestGate(config: config, verifier: verifier, clock: clock)
    }

    private func request(_ token: String) -> HTTPRequestHead {
        Fixture.head("GET", "/api", [("Authorization", "Bearer \(token)")])
    }

    @Test func anAcceptedTokenIsVerifiedOnceUntilExpiryPlusSkew() {
        let verifier = CountingVerifier()
        let clock = ManualClock(wallSeconds: 900)
        let g = gate(verifier, clock: clock)
        let cache = VerifiedTokenCache()
        for _ in 0..<3 {
            let d = g.evaluate(request("customer"), client: Fixture.client, tokenCache: cache)
            #expect(d.plan?.verdict == FakeVerifier.customer)
            #expect(d.plan?.value("X-Shop-Domain") == "store.myshopify.com")
        }
        #expect(verifier.calls == 1)
        // exp is 1000, skew 10: at 1010 the cached verdict no longer answers and the verifier decides again.
        clock.advance(seconds: 110)
        _ = g.evaluate(request("customer"), client: Fixture.client, tokenCache: cache)
        #expect(verifier.calls == 2)
    }

    @Test func rejectionsAreNeverCached() {
        let verifier = CountingVerifier()
        let g = gate(verifier, clock: ManualClock(wallSeconds: 900))
        let cache = VerifiedTokenCache()
        for _ in 0..<3 {
            let d = g.evaluate(request("expired"), client: Fixture.client, tokenCache: cache)
            #expect(d.plan == nil)
        }
        #expect(verifier.calls == 3)
        #expect(cache.count == 0)
    }

    @Test func routeRulesStillApplyToACachedVerdict() {
        let verifier = CountingVerifier()
        var config = GatewayConfig()
        config.routes = [Fixture.route("/account", requireCustomer: true), Fixture.route("/")]
        config.replay.mode = .off
        let g = RequestGate(config: config, verifier: verifier, clock: ManualClock(wallSeconds: 900))
        let cache = VerifiedTokenCache()
        #expect(g.evaluate(Fixture.head("GET", "/api", [("Authorization", "Bearer buyer")]), client: Fixture.client,
                           tokenCache: cache).plan != nil)
        // Same token, now cached, on a route that needs a customer: still 403.
        let d = g.evaluate(Fixture.head("GET", "/account", [("Authorization", "Bearer buyer")]), client: Fixture.client,
                           tokenCache: cache)
        #expect(d.answer?.status == 403)
        #expect(verifier.calls == 1)
    }
}
