import Foundation
import GatewayConfig
import Testing

/// The repository's `gateway.yaml` is the documented example; it must stay valid.
@Suite struct ExampleConfigTests {
    static let examplePath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("gateway.yaml").path

    @Test func exampleParsesCleanly() throws {
        let report = ConfigLoader.check(path: Self.examplePath, environment: ["SHOPIFY_API_SECRET": "example-secret"])
        #expect(report.issues.isEmpty, "\(report.issues)")
        let config = try #require(report.config)
        #expect(config.listeners.map(\.address) == ["127.0.0.1:8080"])
        #expect(config.admin?.address == "127.0.0.1:9901")
        #expect(config.apps.map(\.clientId) == ["test-client-id"])
        #expect(config.apps.first?.secrets.first?.source == .env("SHOPIFY_API_SECRET"))
        #expect(config.upstreams.map(\.servers) == [["127.0.0.1:3000"]])
        #expect(config.routes.map(\.pathPrefix) == ["/healthz", "/"])
        #expect(config.routes.map(\.auth) == [.none, .required])
        #expect(config.routes.last?.replay == .singleUse)
        #expect(config.summary().contains("test-client-id"))
        #expect(!config.summary().contains("example-secret"))
    }

    @Test func exampleWithoutTheSecretNamesTheLine() throws {
        let result = ConfigLoader.load(path: Self.examplePath, environment: [:])
        guard case .failure(let errors) = result else {
            Issue.record("expected a failure without SHOPIFY_API_SECRET")
            return
        }
        #expect(errors.errors.count == 1)
        #expect(errors.description.hasSuffix("apps[0].secrets[0].env: environment variable SHOPIFY_API_SECRET is not set or is empty"))
    }

    @Test func missingFileIsOneIssue() {
        let report = ConfigLoader.check(path: "/nonexistent/gateway.yaml", environment: [:])
        #expect(report.errors.map(\.description) == ["/nonexistent/gateway.yaml:1:1: (file): configuration file does not exist"])
    }

    @Test func issueFormat() {
        let error = ConfigIssue(file: "gateway.yaml", line: 3, column: 7, keyPath: "upstreams[0].connect_timeout", message: "bad")
        #expect(error.description == "gateway.yaml:3:7: upstreams[0].connect_timeout: bad")
        let warning = ConfigIssue(file: "g.yaml", line: 1, column: 2, keyPath: "k", message: "m", severity: .warning)
        #expect(warning.description == "g.yaml:1:2: k: warning: m")
    }
}
