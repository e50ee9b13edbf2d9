import Foundation
import Testing

/// `check` and `token mint|inspect` through the built binary.
@Suite final class CLITests {
    let config: TempConfig
    let env = ["SHOPIFY_API_SECRET": TestStack.secret]

    init() throws { config = try TempConfig(TempConfig.yaml(listen: 18080, admin: 19901, upstream: 13000)) }
    deinit { config.remove() }

    func run(_ args: [String], stdin: String? = nil, environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        var e = ProcessInfo.processInfo.environment
        for (k, v) in environment ?? env { e[k] = v }
        return try runProcess(gatewayBinary(), args, environment: e, stdin: stdin)
    }

    @Test func checkValidConfig() throws {
        let r = try run(["check", "--config", config.path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("valid"))
        #expect(!r.stdout.contains(TestStack.secret), "check must redact secrets")
    }

    @Test func checkInvalidConfigListsEachErrorWithLineAndColumn() throws {
        let bad = """
        listeners:
          - address: 127.0.0.1:8080
        apps:
          - client_id: "x"
            secrets:
              - value: "s"
        upstreams:
          - name: app
            servers: ["127.0.0.1:3000"]
            connect_timeout: soon
        routes:
          - path_prefix: /
            upstream: nowhere
        bogus_key: 1

        """
        try config.write(bad)
        let r = try run(["check", "--config", config.path])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init).filter { !$0.contains("warning: ") }
        #expect(lines.count >= 3, "expected an error line each: \(r.stderr)")
        let pattern = try Regex(#"^(.+):(\d+):(\d+): ([A-Za-z0-9_\.\[\]\(\)]+): (.+)$"#)
        for line in lines {
            let m = try #require(line.wholeMatch(of: pattern), "bad error line: \(line)")
            #expect(String(m.output[1].substring ?? "") == config.path)
        }
        #expect(lines.contains { $0.hasPrefix("\(config.path):10:") && $0.contains("connect_timeout") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(config.path):14:1: ") && $0.contains("bogus_key") }, "\(lines)")
        #expect(lines.contains { $0.contains("routes[0].upstream") }, "\(lines)")
    }

    @Test func checkMissingSecretEnv() throws {
        let r = try run(["check", "--config", config.path], environment: ["SHOPIFY_API_SECRET": ""])
        #expect(r.status == 1, "an empty secret must be an error: \(r.stdout) \(r.stderr)")
    }

    @Test func mintThenInspectRoundTrip() throws {
        let mint = try run(["token", "mint", "--config", config.path, "--shop", "a.myshopify.com", "--customer", "42"])
        #expect(mint.status == 0, "\(mint.stderr)")
        let token = mint.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.split(separator: ".").count == 3)
        let inspect = try run(["token", "inspect", "--config", config.path, token])
        #expect(inspect.status == 0, "\(inspect.stdout) \(inspect.stderr)")
        #expect(inspect.stdout.split(separator: "\n").contains("verdict: accepted"), "\(inspect.stdout)")
        // `-` reads stdin, and the config may come from $GATEWAY_CONFIG.
        let viaStdin = try run(["token", "inspect", "-"], stdin: token + "\n",
                               environment: env.merging(["GATEWAY_CONFIG": config.path]) { a, _ in a })
        #expect(viaStdin.status == 0, "\(viaStdin.stdout) \(viaStdin.stderr)")
        #expect(viaStdin.stdout.contains("verdict: accepted"))
    }

    @Test func adminMintIsAccepted() throws {
        let mint = try run(["token", "mint", "--config", config.path, "--shop", "a.myshopify.com", "--admin", "--customer", "7"])
        #expect(mint.status == 0)
        let inspect = try run(["token", "inspect", "--config", config.path, mint.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
        #expect(inspect.stdout.contains("verdict: accepted"), "\(inspect.stdout)")
    }

    @Test(arguments: [("token_expired", 0), ("malformed_token", 1), ("invalid_signature", 2), ("token_lifetime_too_long", 3)])
    func inspectRejects(code: String, which: Int) throws {
        let token: String
        switch which {
        case 0: token = Tok.valid(iat: Tok.now - 1000)
        case 1: token = "garbage.token"
        case 2: token = Tok.valid(secret: Array("other".utf8))
        default: token = Tok.valid(ttl: 7200)
        }
        let r = try run(["token", "inspect", "--config", config.path, token])
        #expect(r.status == 1, "\(r.stdout)")
        #expect(r.stdout.split(separator: "\n").contains("verdict: rejected \(code)"[...]), "\(r.stdout)")
        let viaStdin = try run(["token", "inspect", "--config", config.path, "-"], stdin: token)
        #expect(viaStdin.status == 1)
        #expect(viaStdin.stdout.contains("verdict: rejected \(code)"))
    }
}
