import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The README's five-minute tutorial, as a user runs it: the repository's own `gateway.yaml` (only its ports moved to
/// free ones) in front of `deploy/examples/node/app.js` under the real `node`, a token minted with `token mint`.
/// `make test` installs nodejs, so a missing `node` fails here rather than skipping the tutorial.
@Suite(.serialized) struct TutorialTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let secret = "tutorial-secret"

    /// `gateway.yaml` with its listener, admin and upstream ports replaced; everything else as shipped.
    func repositoryConfig(listen: Int, admin: Int, app: Int) throws -> TempConfig {
        var yaml = try String(contentsOf: Self.root.appendingPathComponent("gateway.yaml"), encoding: .utf8)
        for (from, to) in [("127.0.0.1:8080", listen), ("127.0.0.1:9901", admin), ("127.0.0.1:3000", app)] {
            #expect(yaml.contains(from), "gateway.yaml no longer has \(from): update the README's tutorial and this test")
            yaml = yaml.replacingOccurrences(of: from, with: "127.0.0.1:\(to)")
        }
        return try TempConfig(yaml)
    }

    func nodePath() -> String? {
        ["/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func theNodeBackendSeesTheTokensShopAndCustomerAndNeverTheClientsCopy() throws {
        let node = try #require(nodePath(), "node is missing: `make test` installs the nodejs package")
        let (listen, admin, appPort) = (try freePort(), try freePort(), try freePort())
        let config = try repositoryConfig(listen: listen, admin: admin, app: appPort)
        defer { config.remove() }

        let app = Process()
        app.executableURL = URL(fileURLWithPath: node)
        app.arguments = [Self.root.appendingPathComponent("deploy/examples/node/app.js").path]
        app.environment = ["PORT": String(appPort), "PATH": "/usr/bin:/bin"]
        app.standardInput = FileHandle.nullDevice
        try app.run()
        defer { if app.isRunning { kill(app.processIdentifier, SIGKILL) }; app.waitUntilExit() }
        let gw = try GatewayBinary(["serve", "--config", config.path], environment: ["SHOPIFY_API_SECRET": secret])
        defer { gw.kill() }
        #expect(waitForListener(port: appPort), "the Node app did not start")
        #expect(waitForListener(port: listen), "gateway did not start: \(gw.stderr)")

        let minted = try runProcess(gatewayBinary(), ["token", "mint", "--config", config.path,
                                                      "--shop", "demo.myshopify.com", "--customer", "42"],
                                    environment: ProcessInfo.processInfo.environment.merging(["SHOPIFY_API_SECRET": secret]) { _, b in b })
        #expect(minted.status == 0, "token mint failed: \(minted.stderr)")
        let token = minted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        func get(_ token: String?, spoof: Bool) throws -> HTTPTestResponse? {
            let c = try RawClient(port: listen)
            let spoofed = spoof ? [("X-Shop-Domain", "evil.myshopify.com"), ("X_Customer_Id", "gid://shopify/Customer/1")] : []
            c.send(httpRequest("GET", "/api/orders", token: token, headers: spoofed, host: "127.0.0.1:\(listen)"))
            return c.readResponse()
        }

        let first = try #require(try get(token, spoof: true))
        #expect(first.status == 200)
        #expect(first.json?["shop"] as? String == "demo.myshopify.com")
        #expect(first.json?["customer"] as? String == "gid://shopify/Customer/42")
        #expect(first.json?["path"] as? String == "/api/orders")

        let again = try #require(try get(token, spoof: false))
        #expect(again.status == 401)
        #expect(again.json?["error"] as? String == "token_replayed")

        let anonymous = try #require(try get(nil, spoof: true))
        #expect(anonymous.status == 401)
        #expect(anonymous.json?["error"] as? String == "missing_token")
    }
}
