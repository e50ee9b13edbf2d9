import GatewayAuth
import GatewayConfig
import GatewayCore
import Testing
@testable import GatewayProxy

/// `identity_headers.client_id`: the accepted token's app injected, every client-sent copy stripped on every route.
@Suite struct RequestGateClientIdTests {
    let gate = Fixture.gate([
        Fixture.route("/public", auth: .none),
        Fixture.route("/maybe", auth: .optional),
        Fixture.route("/"),
    ]) { $0.identityHeaders.clientId = "X-Shopify-Client-Id" }

    static let spoofed: [(String, String)] = [
        ("X-Shopify-Client-Id", "evil-1"), ("x-shopify-client-id", "evil-2"), ("X_Shopify_Client_Id", "evil-3"),
        ("X-SHOPIFY_CLIENT-ID", "evil-4"), ("X-Shopify-Client-Id", "evil-5"), ("x_shopify_client_id", "evil-6"),
    ]

    @Test func acceptedTokensAppIsInjectedOnce() throws {
        for (path, token, app) in [("/x", "customer", "app-1"), ("/x", "other-app", "app-2"), ("/maybe", "customer", "app-1")] {
            let head = Fixture.head("GET", path, Self.spoofed + [("Authorization", "Bearer \(token)")])
            let plan = try #require(gate.evaluate(head, client: Fixture.client).plan)
            #expect(plan.values("X-Shopify-Client-Id") == [app])
            #expect(!plan.names.contains { $0.contains("_") })
        }
    }

    @Test(arguments: ["/public", "/maybe"])
    func spoofedCopiesAreStrippedWithoutAToken(path: String) throws {
        let plan = try #require(gate.evaluate(Fixture.head("GET", path, Self.spoofed), client: Fixture.client).plan)
        #expect(!plan.names.contains { $0.replacingOccurrences(of: "_", with: "-") == "x-shopify-client-id" })
    }

    /// The header goes with the other identity fields, so `Connection` cannot name it away either.
    @Test func connectionCannotRemoveTheInjectedClientId() throws {
        let head = Fixture.head("GET", "/x", [("Connection", "X-Shopify-Client-Id"), ("Authorization", "Bearer customer")])
        let plan = try #require(gate.evaluate(head, client: Fixture.client).plan)
        #expect(plan.values("X-Shopify-Client-Id") == ["app-1"])
    }

    /// Off (the default), the name is nothing to the gateway: neither injected nor stripped.
    @Test func offByDefault() throws {
        let g = Fixture.gate([Fixture.route("/")])
        let head = Fixture.head("GET", "/x", [("X-Shopify-Client-Id", "mine"), ("Authorization", "Bearer customer")])
        let plan = try #require(g.evaluate(head, client: Fixture.client).plan)
        #expect(plan.values("X-Shopify-Client-Id") == ["mine"])
    }
}
