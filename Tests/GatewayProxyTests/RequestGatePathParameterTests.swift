import GatewayConfig
import GatewayCore
import Testing
@testable import GatewayProxy

/// `;` path parameters through the whole gate: matched as a segment end, forwarded as sent, refused on dot segments.
@Suite struct RequestGatePathParameterTests {
    let gate = Fixture.gate([
        Fixture.route("/admin/users", auth: .required),
        Fixture.route("/admin", auth: .required),
        Fixture.route("/", auth: .none),
    ])

    @Test(arguments: ["/admin;x", "/admin;jsessionid=abc", "/admin;x/", "/admin;x/settings"])
    func parametersDoNotDodgeTheAdminRoute(_ path: String) {
        let d = gate.evaluate(Fixture.head("GET", path), client: Fixture.client)
        #expect(d.routeIndex == 1)
        #expect(d.answer?.code == "missing_token")
    }

    @Test func parametersMeetTheMoreSpecificRoute() {
        #expect(gate.evaluate(Fixture.head("GET", "/admin;x/users"), client: Fixture.client).routeIndex == 0)
        #expect(gate.evaluate(Fixture.head("GET", "/admin/users;x"), client: Fixture.client).routeIndex == 0)
    }

    /// The backend gets the path that was matched, parameters included (contract step 2).
    @Test func forwardedPathKeepsTheParameters() throws {
        let d = gate.evaluate(Fixture.head("GET", "/admin;x/./users;y?q=1", [("Authorization", "Bearer customer")]),
                              client: Fixture.client)
        let plan = try #require(d.plan)
        #expect(plan.routeIndex == 0)
        #expect(plan.head.target == "/admin;x/users;y?q=1")
    }

    @Test(arguments: ["/public/..;/admin", "/public/..%3B/admin", "/public/..%3b/admin", "/public/.%3B/admin",
                      "/public/%2e%2e%3b/admin"])
    func escapedOrPlainParameterizedDotSegmentsAre400(_ path: String) {
        let d = gate.evaluate(Fixture.head("GET", path), client: Fixture.client)
        #expect(d.answer?.status == 400)
        #expect(d.answer?.code == "bad_request")
    }
}
