import Foundation
import GatewayConfig
import Testing

/// A secret's bytes must never surface in any textual form of the config.
@Suite struct SecretRedactionTests {
    static let secretText = "hunter2-SUPER-secret-value"

    func config() throws -> GatewayConfig {
        let yaml = """
        apps:
          - client_id: app-1
            secrets: [{env: SECRET}, {value: "\(Self.secretText)-inline"}]
        upstreams: [{name: app, servers: ["127.0.0.1:3000"]}]
        routes: [{path_prefix: /, upstream: app}]
        """
        return try #require(parse(yaml, environment: ["SECRET": Self.secretText]).config)
    }

    @Test func noTextualFormContainsTheSecret() throws {
        let config = try config()
        #expect(config.apps.first?.secrets.first?.bytes == Array(Self.secretText.utf8))
        var dumped = ""
        dump(config, to: &dumped)
        let forms = [
            String(describing: config), String(reflecting: config), "\(config)", dumped, config.summary(),
            String(describing: config.apps), "\(config.apps[0].secrets)",
        ]
        for form in forms {
            #expect(!form.contains("hunter2"), "leaked in: \(form.prefix(200))")
        }
        // dump walks the Mirror, which would otherwise list the bytes as decimal numbers.
        #expect(!dumped.contains("bytes"))
        let secretBytes = Array(Self.secretText.utf8).map(String.init).joined(separator: "\n")
        #expect(!dumped.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "-", with: "").contains(secretBytes))
        let secret = try #require(config.apps.first?.secrets.first)
        #expect(Mirror(reflecting: secret).children.map(\.label) == ["source"])
        #expect(config.summary().contains("env:SECRET (redacted)"))
        #expect(config.summary().contains("value (redacted)"))
    }

    @Test func issuesNeverQuoteASecret() {
        let yaml = "apps: [{client_id: a, secrets: [{value: \"\(Self.secretText)\", env: X}]}]\nroutes: []\n"
        let text = parse(yaml).issues.map(\.description).joined(separator: "\n")
        #expect(!text.isEmpty)
        #expect(!text.contains("hunter2"))
    }
}
