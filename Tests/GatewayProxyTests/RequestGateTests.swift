import GatewayAuth
import GatewayConfig
import GatewayCore
import Testing
@testable import GatewayProxy

@Suite struct RequestGateTests {
    let gate = Fixture.gate([
        Fixture.route("/healthz", auth: .none),
        Fixture.route("/public", auth: .none),
        Fixture.route("/maybe", auth: .optional),
        Fixture.route("/orders", requireCustomer: true),
        Fixture.route("/once", replay: .singleUse),
        Fixture.route("/", methods: ["GET", "POST"]),
    ])

    @Test func badTargetIs400() {
        let d = gate.evaluate(Fixture.head("GET", "/a/%zz"), client: Fixture.client)
        #expect(d.answer?.code == "bad_request")
        #expect(d.answer?.status == 400)
        #expect(d.routeIndex == nil)
    }

    @Test func noRouteIs404() {
        let g = Fixture.gate([Fixture.route("/api")])
        let d = g.evaluate(Fixture.head("GET", "/apix"), client: Fixture.client)
        #expect(d.answer?.code == "no_route")
        #expect(d.answer?.status == 404)
    }

    @Test func methodNotListedFallsToNoRoute() {
        let d = gate.evaluate(Fixture.head("DELETE", "/x", [("Authorization", "Bearer customer")]), client: Fixture.client)
        #expect(d.answer?.code == "no_route")
    }

    @Test func dotSegmentsCannotDodgeAnAuthRoute() {
        let d = gate.evaluate(Fixture.head("GET", "/public/../private"), client: Fixture.client)
        #expect(d.routeIndex == 5)
        #expect(d.answer?.code == "missing_token")
        let encoded = gate.evaluate(Fixture.head("GET", "/public/%2e%2e/private"), client: Fixture.client)
        #expect(encoded.answer?.code == "missing_token")
        let slash = gate.evaluate(Fixture.head("GET", "/public/..%2Fprivate"), client: Fixture.client)
        #expect(slash.answer?.code == "bad_request")
    }

    @Test func backendGetsTheNormalizedTargetWithOriginalQuery() throws {
        let d = gate.evaluate(Fixture.head("GET", "/public/./a/../b?q=/../x"), client: Fixture.client)
        let plan = try #require(d.plan)
        #expect(plan.head.target == "/public/b?q=/../x")
        #expect(plan.routeIndex == 1)
        #expect(plan.upstream == "app")
        #expect(plan.authOutcome == "none")
    }

    @Test func expectIsFlaggedOnlyWhileTheForwardedHeadHasIt() throws {
        let plain = try #require(gate.evaluate(Fixture.head("GET", "/public/a"), client: Fixture.client).plan)
        #expect(!plain.hasExpect)
        let expect = try #require(gate.evaluate(Fixture.head("POST", "/public/a", [("EXPECT", "100-continue")]),
                                                client: Fixture.client).plan)
        #expect(expect.hasExpect)
        // The client's Connection named it: removed with the other hop-by-hop fields, so nothing to answer.
        let named = try #require(gate.evaluate(Fixture.head("POST", "/public/a", [("Expect", "100-continue"),
                                                                                ("Connection", "expect")]),
                                               client: Fixture.client).plan)
        #expect(!named.head.headers.contains(named: "Expect"))
        #expect(!named.hasExpect)
    }

    @Test func missingTokenOnRequiredRoute() throws {
        let d = gate.evaluate(Fixture.head("GET", "/x", [("Origin", "null")]), client: Fixture.client)
        let answer = try #require(d.answer)
        #expect(answer.status == 401)
        #expect(answer.code == "missing_token")
        #expect(answer.headers.contains { $0 == ("WWW-Authenticate", "Bearer realm=\"session-gateway\"") })
        #expect(!answer.headers.contains { $0.0 == "X-Shopify-Retry-Invalid-Session-Request" })
        #expect(d.answerOrigin == "null")
    }

    @Test func rejectedTokenCarriesRetryHeaderAndCors() throws {
        let d = gate.evaluate(Fixture.head("POST", "/x", [("Authorization", "Bearer expired"), ("Origin", "https://e.example")]),
                              client: Fixture.client)
        let answer = try #require(d.answer)
        #expect(answer.status == 401)
        #expect(answer.code == "token_expired")
        #expect(answer.headers.contains { $0 == ("X-Shopify-Retry-Invalid-Session-Request", "1") })
        #expect(answer.headers.contains {
            $0 == ("WWW-Authenticate", "Bearer error=\"invalid_token\", error_description=\"token_expired\"")
        })
        let origin = try #require(d.answerOrigin)
        let wire = ParsedResponse(answer.serializeHTTP1(requestId: d.requestId,
                                                        extraHeaders: gate.cors.responseHeaders(origin: origin),
                                                        keepAlive: true, headOnly: false))
        #expect(wire.value("Access-Control-Allow-Origin") == "*")
        #expect(wire.value("Access-Control-Expose-Headers")?.contains("X-Shopify-Retry-Invalid-Session-Request") == true)
        #expect(wire.value("X-Request-Id") == d.requestId)
    }

    @Test func forbiddenShopIs403WithoutRetry() throws {
        let d = gate.evaluate(Fixture.head("GET", "/x", [("Authorization", "Bearer foreign-shop")]), client: Fixture.client)
        let answer = try #require(d.answer)
        #expect(answer.status == 403)
        #expect(answer.code == "shop_not_allowed")
        #expect(answer.headers.isEmpty)
    }

    @Test func acceptedTokenInjectsIdentity() throws {
        let d = gate.evaluate(Fixture.head("GET", "/x", [("Authorization", "Bearer customer")]), client: Fixture.client)
        let plan = try #require(d.plan)
        #expect(plan.value("X-Shop-Domain") == "store.myshopify.com")
        #expect(plan.value("X-Customer-Id") == "gid://shopify/Customer/123")
        #expect(plan.value("X-Staff-User-Id") == nil)
        #expect(plan.value("Authorization") == "Bearer customer")
        #expect(plan.verdict == FakeVerifier.customer)
        #expect(plan.authOutcome == "accepted")
        #expect(plan.replay == nil)
    }

    @Test func numericCustomerFormat() throws {
        let g = Fixture.gate([Fixture.route("/")]) { $0.identityHeaders.customerIdFormat = .numeric }
        let plan = try #require(g.evaluate(Fixture.head("GET", "/", [("Authorization", "Bearer customer")]),
                                           client: Fixture.client).plan)
        #expect(plan.values("X-Customer-Id") == ["123"])
    }

    @Test func staffTokenGoesToStaffHeaderOnly() throws {
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/x", [("Authorization", "Bearer staff")]),
                                              client: Fixture.client).plan)
        #expect(plan.value("X-Staff-User-Id") == "42")
        #expect(plan.value("X-Customer-Id") == nil)
    }

    @Test func forwardTokenFalseStripsAuthorization() throws {
        let g = Fixture.gate([Fixture.route("/open", auth: .none), Fixture.route("/")]) {
            $0.identityHeaders.forwardToken = false
        }
        let plan = try #require(g.evaluate(Fixture.head("GET", "/", [("authorization", "Bearer customer")]),
                                           client: Fixture.client).plan)
        #expect(plan.value("Authorization") == nil)
        #expect(plan.value("X-Shop-Domain") == "store.myshopify.com")
        let open = try #require(g.evaluate(Fixture.head("GET", "/open", [("Authorization", "Bearer x")]),
                                           client: Fixture.client).plan)
        #expect(open.value("Authorization") == nil)
    }

    @Test func authNoneRouteForwardsTokenUnverified() throws {
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/public", [("Authorization", "Bearer garbage")]),
                                              client: Fixture.client).plan)
        #expect(plan.value("Authorization") == "Bearer garbage")
        #expect(plan.verdict == nil)
        #expect(plan.value("X-Shop-Domain") == nil)
    }

    @Test func optionalAuth() throws {
        let anonymous = try #require(gate.evaluate(Fixture.head("GET", "/maybe"), client: Fixture.client).plan)
        #expect(anonymous.authOutcome == "anonymous")
        #expect(anonymous.verdict == nil)
        #expect(anonymous.value("X-Shop-Domain") == nil)
        let spoofed = try #require(gate.evaluate(Fixture.head("GET", "/maybe", [("X-Shop-Domain", "evil.myshopify.com")]),
                                                 client: Fixture.client).plan)
        #expect(spoofed.value("X-Shop-Domain") == nil)
        let bad = gate.evaluate(Fixture.head("GET", "/maybe", [("Authorization", "Bearer junk")]), client: Fixture.client)
        #expect(bad.answer?.code == "malformed_token")
        let good = try #require(gate.evaluate(Fixture.head("GET", "/maybe", [("Authorization", "Bearer customer")]),
                                              client: Fixture.client).plan)
        #expect(good.authOutcome == "accepted")
    }

    @Test func requireCustomer() throws {
        let noCustomer = gate.evaluate(Fixture.head("GET", "/orders", [("Authorization", "Bearer buyer")]), client: Fixture.client)
        #expect(noCustomer.answer?.status == 403)
        #expect(noCustomer.answer?.code == "customer_required")
        let staff = gate.evaluate(Fixture.head("GET", "/orders", [("Authorization", "Bearer staff")]), client: Fixture.client)
        #expect(staff.answer?.code == "customer_required")
        let customer = gate.evaluate(Fixture.head("GET", "/orders/1", [("Authorization", "Bearer customer")]), client: Fixture.client)
        #expect(customer.plan != nil)
        let optional = Fixture.gate([Fixture.route("/", auth: .optional, requireCustomer: true)])
        #expect(optional.evaluate(Fixture.head(), client: Fixture.client).answer?.code == "missing_token")
    }

    @Test func replayTicketForSingleUse() throws {
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/once", [("Authorization", "Bearer customer")]),
                                              client: Fixture.client).plan)
        #expect(plan.replay == ReplayTicket(app: "app-1", jti: "jti-1", until: 1_010))
        let missing = gate.evaluate(Fixture.head("GET", "/once", [("Authorization", "Bearer nojti")]), client: Fixture.client)
        #expect(missing.answer?.code == "missing_claim")
        #expect(missing.answer?.headers.contains { $0 == ("X-Shopify-Retry-Invalid-Session-Request", "1") } == true)
        // replay off on this route: no jti needed.
        #expect(gate.evaluate(Fixture.head("GET", "/x", [("Authorization", "Bearer nojti")]), client: Fixture.client).plan != nil)
    }

    @Test func globalReplayModeAppliesUnlessRouteOverrides() throws {
        let g = Fixture.gate([Fixture.route("/off", replay: .off), Fixture.route("/")], replay: .singleUse) {
            $0.token.clockSkew = .seconds(30)
        }
        let plan = try #require(g.evaluate(Fixture.head("GET", "/", [("Authorization", "Bearer customer")]),
                                           client: Fixture.client).plan)
        #expect(plan.replay?.until == 1_030)
        let off = try #require(g.evaluate(Fixture.head("GET", "/off", [("Authorization", "Bearer customer")]),
                                          client: Fixture.client).plan)
        #expect(off.replay == nil)
    }

    @Test func controlCharactersInClaimsNeverReachAField() {
        let d = gate.evaluate(Fixture.head("GET", "/x", [("Authorization", "Bearer evil-shop")]), client: Fixture.client)
        #expect(d.answer?.status == 401)
    }

    @Test func twoAuthorizationFieldsAreRefused() {
        let d = gate.evaluate(Fixture.head("GET", "/x", [("Authorization", "Bearer customer"), ("authorization", "Bearer staff")]),
                              client: Fixture.client)
        #expect(d.answer?.code == "bad_request")
    }
}
