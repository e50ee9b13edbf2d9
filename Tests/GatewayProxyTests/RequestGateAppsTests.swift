import GatewayAuth
import GatewayConfig
import GatewayCore
import Testing
@testable import GatewayProxy

/// `routes[].apps` in the gate: a valid token of another app is `401 unknown_audience` before any replay ticket is
/// made, on required and optional routes, from the verifier or from the token cache alike.
@Suite struct RequestGateAppsTests {
    static func restricted(_ prefix: String, auth: AuthMode = .required, apps: [String]? = ["app-1"],
                           replay: ReplayMode? = nil) -> RouteConfig {
        var r = Fixture.route(prefix, auth: auth, replay: replay)
        r.apps = apps
        return r
    }

    let gate = Fixture.gate([
        RequestGateAppsTests.restricted("/one"),
        RequestGateAppsTests.restricted("/maybe", auth: .optional),
        RequestGateAppsTests.restricted("/once", replay: .singleUse),
        RequestGateAppsTests.restricted("/both", apps: ["app-2", "app-1"]),
        Fixture.route("/"),
    ])

    private func request(_ path: String, _ token: String?) -> HTTPRequestHead {
        Fixture.head("GET", path, token.map { [("Authorization", "Bearer \($0)")] } ?? [])
    }

    @Test func aListedAppPassesAndAnotherIsUnknownAudience() throws {
        let ok = try #require(gate.evaluate(request("/one/x", "customer"), client: Fixture.client).plan)
        #expect(ok.verdict?.clientId == "app-1")
        let refused = gate.evaluate(request("/one/x", "other-app"), client: Fixture.client)
        #expect(refused.answer?.status == 401)
        #expect(refused.answer?.code == "unknown_audience")
        #expect(refused.routeIndex == 0)
        // A token was presented: the answer asks App Bridge for a fresh one, like every other 401 with a token.
        #expect(refused.answer?.headers.contains { $0 == ("X-Shopify-Retry-Invalid-Session-Request", "1") } == true)
        #expect(refused.answer?.headers.contains {
            $0 == ("WWW-Authenticate", #"Bearer error="invalid_token", error_description="unknown_audience""#)
        } == true)
    }

    @Test func everyListedAppPassesAndUnrestrictedRoutesTakeAnyApp() {
        #expect(gate.evaluate(request("/both", "customer"), client: Fixture.client).plan != nil)
        #expect(gate.evaluate(request("/both", "other-app"), client: Fixture.client).plan != nil)
        #expect(gate.evaluate(request("/other", "other-app"), client: Fixture.client).plan?.verdict?.clientId == "app-2")
    }

    @Test func optionalRouteForwardsAnonymousButRefusesAnotherAppsToken() throws {
        let anonymous = try #require(gate.evaluate(request("/maybe", nil), client: Fixture.client).plan)
        #expect(anonymous.authOutcome == "anonymous")
        #expect(gate.evaluate(request("/maybe", "customer"), client: Fixture.client).plan?.authOutcome == "accepted")
        #expect(gate.evaluate(request("/maybe", "other-app"), client: Fixture.client).answer?.code == "unknown_audience")
    }

    /// The answer is decided before a replay ticket exists, so the engine never admits (burns) the jti.
    @Test func refusedTokenGetsNoReplayTicket() throws {
        let accepted = try #require(gate.evaluate(request("/once", "customer"), client: Fixture.client).plan)
        #expect(accepted.replay == ReplayTicket(app: "app-1", jti: "jti-1", until: 1_010))
        let refused = gate.evaluate(request("/once", "other-app"), client: Fixture.client)
        #expect(refused.plan == nil)
        #expect(refused.answer?.code == "unknown_audience")
    }

    /// The app check comes before the route's other claim rules: a token of another app is not for this route at all.
    @Test func unknownAudienceComesBeforeMissingJTI() {
        let g = Fixture.gate([RequestGateAppsTests.restricted("/", apps: ["app-2"], replay: .singleUse)])
        #expect(g.evaluate(request("/", "nojti"), client: Fixture.client).answer?.code == "unknown_audience")
    }

    @Test func aCachedVerdictFromAnUnrestrictedRouteDoesNotPassARestrictedOne() {
        let verifier = CountingVerifier()
        var config = GatewayConfig()
        config.routes = [RequestGateAppsTests.restricted("/one"), Fixture.route("/")]
        config.replay.mode = .off
        let g = RequestGate(config: config, verifier: verifier, clock: ManualClock(wallSeconds: 900))
        let cache = VerifiedTokenCache()
        #expect(g.evaluate(request("/any", "other-app"), client: Fixture.client, tokenCache: cache).plan != nil)
        #expect(cache.count == 1)
        let d = g.evaluate(request("/one", "other-app"), client: Fixture.client, tokenCache: cache)
        #expect(d.answer?.code == "unknown_audience")
        // Answered from the cache: the route rule, not a fresh verification, refused it.
        #expect(verifier.calls == 1)
        #expect(g.evaluate(request("/any", "other-app"), client: Fixture.client, tokenCache: cache).plan != nil)
    }
}
