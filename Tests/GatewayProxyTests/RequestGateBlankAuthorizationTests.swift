import GatewayAuth
import GatewayConfig
import GatewayCore
import Testing
@testable import GatewayProxy

/// An `Authorization` field that is empty or only blanks carries no token: it counts as no field at all.
@Suite struct RequestGateBlankAuthorizationTests {
    let gate = Fixture.gate([
        Fixture.route("/maybe", auth: .optional),
        Fixture.route("/open", auth: .none),
        Fixture.route("/", auth: .required),
    ])

    static let blanks = ["", " ", "   ", "\t", " \t "]

    @Test(arguments: blanks)
    func optionalRouteForwardsAnonymously(_ value: String) throws {
        let d = gate.evaluate(Fixture.head("GET", "/maybe", [("Authorization", value), ("X-Shop-Domain", "evil.myshopify.com")]),
                              client: Fixture.client)
        let plan = try #require(d.plan, "\(value.debugDescription): \(d.answer?.code ?? "")")
        #expect(plan.authOutcome == "anonymous")
        #expect(plan.verdict == nil)
        #expect(plan.replay == nil)
        #expect(plan.value("X-Shop-Domain") == nil)
        #expect(plan.value("X-Customer-Id") == nil)
    }

    @Test(arguments: blanks)
    func requiredRouteAnswersMissingToken(_ value: String) throws {
        let d = gate.evaluate(Fixture.head("GET", "/x", [("Authorization", value)]), client: Fixture.client)
        let answer = try #require(d.answer)
        #expect(answer.status == 401)
        #expect(answer.code == "missing_token")
        #expect(answer.headers.contains { $0 == ("WWW-Authenticate", "Bearer realm=\"session-gateway\"") })
        // No token was carried, so App Bridge has nothing to refresh.
        #expect(!answer.headers.contains { $0.0 == "X-Shopify-Retry-Invalid-Session-Request" })
        #expect(d.routeIndex == 2)
    }

    @Test func requireCustomerRouteAnswersMissingToken() {
        let g = Fixture.gate([Fixture.route("/", auth: .optional, requireCustomer: true)])
        #expect(g.evaluate(Fixture.head("GET", "/", [("Authorization", " ")]), client: Fixture.client).answer?.code
                == "missing_token")
    }

    @Test func noneRouteIgnoresIt() throws {
        let plan = try #require(gate.evaluate(Fixture.head("GET", "/open", [("Authorization", "")]), client: Fixture.client).plan)
        #expect(plan.authOutcome == "none")
    }

    @Test func sameWithATokenCache() throws {
        let cache = VerifiedTokenCache()
        for _ in 0..<2 {
            let d = gate.evaluate(Fixture.head("GET", "/maybe", [("Authorization", "")]), client: Fixture.client, tokenCache: cache)
            #expect(d.plan?.authOutcome == "anonymous")
        }
    }

    /// Only a blank value is "no token": a value with anything else in it is still checked and refused.
    @Test func nonBlankJunkIsStillRefused() {
        for value in ["Bearer", "Bearer ", " x ", "Basic abc"] {
            let d = gate.evaluate(Fixture.head("GET", "/maybe", [("Authorization", value)]), client: Fixture.client)
            #expect(d.answer?.code == "malformed_token", "\(value.debugDescription)")
        }
    }

    /// A blank field next to a real one is still two fields: the backend could read either.
    @Test func blankBesideATokenIsStillTwoFields() {
        let d = gate.evaluate(Fixture.head("GET", "/maybe", [("Authorization", ""), ("Authorization", "Bearer customer")]),
                              client: Fixture.client)
        #expect(d.answer?.code == "bad_request")
    }
}
