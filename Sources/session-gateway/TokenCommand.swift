import ArgumentParser
import Foundation
import GatewayAuth
import GatewayConfig
import GatewayCore

/// `session-gateway token`: mint and inspect session tokens for local testing.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Mint or inspect session tokens against the config's apps.",
        subcommands: [MintCommand.self, InspectCommand.self]
    )
}

/// Loads the config for the token commands, printing every error on stderr.
private func loadConfig(_ option: ConfigOption) throws -> GatewayConfig {
    let path = option.path
    switch ConfigLoader.load(path: path, environment: ProcessInfo.processInfo.environment) {
    case .success(let c): return c
    case .failure(let errors):
        FileHandle.standardError.write(Data((errors.description + "\n").utf8))
        throw ExitCode(2)
    }
}

/// `token mint`: prints a token signed with the app's current secret.
struct MintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mint",
        abstract: "Print a session token signed with the app's current secret (for testing a backend locally)."
    )

    @OptionGroup var configOption: ConfigOption

    @Option(name: .long, help: "The app's client id (default: the first app).")
    var app: String?

    @Option(name: .long, help: "The shop domain, e.g. store.myshopify.com.")
    var shop: String

    @Option(name: .long, help: "Customer id (digits or gid://shopify/Customer/ID); with --admin, the staff user id.")
    var customer: String?

    @Option(name: .long, help: "Lifetime: 30s, 5m, 1h.")
    var ttl: String = "5m"

    @Flag(name: .long, help: "An admin (App Bridge) token: iss https://SHOP/admin, dest https://SHOP, numeric staff sub, sid.")
    var admin = false

    func run() throws {
        let cfg = try loadConfig(configOption)
        guard let appConfig = app.map({ id in cfg.apps.first { $0.clientId == id } }) ?? cfg.apps.first else {
            throw ValidationError(app.map { "no app with client_id \($0) in the config" } ?? "the config has no apps")
        }
        guard let secret = appConfig.secrets.first else { throw ValidationError("app \(appConfig.clientId) has no secret") }
        guard let span = TimeSpan.parse(ttl), span.seconds > 0 else { throw ValidationError("--ttl: use a duration like 30s, 5m, 1h") }
        let host = shop.lowercased().replacingOccurrences(of: "https://", with: "").replacingOccurrences(of: "http://", with: "")
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else {
            throw ValidationError("--shop: a host name like store.myshopify.com")
        }
        let now = Int64(Date().timeIntervalSince1970)
        var claims: [(String, ClaimValue)] = [
            ("aud", .string(appConfig.clientId)),
            ("exp", .int(now + span.seconds)),
            ("nbf", .int(now)),
            ("iat", .int(now)),
            ("jti", .string(UUID().uuidString.lowercased())),
        ]
        if admin {
            claims.insert(("iss", .string("https://\(host)/admin")), at: 0)
            claims.insert(("dest", .string("https://\(host)")), at: 1)
            let staff = customer ?? "1"
            guard staff.allSatisfy(\.isNumber), !staff.isEmpty else { throw ValidationError("--customer: with --admin, a numeric staff user id") }
            claims.append(("sub", .string(staff)))
            claims.append(("sid", .string(UUID().uuidString.lowercased())))
        } else {
            claims.insert(("dest", .string(host)), at: 0)
            if let c = customer {
                let digits = c.hasPrefix("gid://shopify/Customer/") ? String(c.dropFirst("gid://shopify/Customer/".count)) : c
                guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else { throw ValidationError("--customer: digits or gid://shopify/Customer/ID") }
                claims.append(("sub", .string("gid://shopify/Customer/\(digits)")))
            }
        }
        print(TokenMinter.mint(claims: claims, secret: secret.bytes))
    }
}

/// `token inspect`: decodes a token, verifies it against the config now, and explains the verdict.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Decode and verify a token against the config at the current time (exit 0 accepted, 1 rejected)."
    )

    @OptionGroup var configOption: ConfigOption

    @Argument(help: "The token, or - to read it from standard input.")
    var token: String

    func run() throws {
        let cfg = try loadConfig(configOption)
        var raw = token
        if raw == "-" {
            raw = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        raw = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if raw.lowercased().hasPrefix("bearer ") { raw = String(raw.dropFirst(7)) }
        switch TokenInspector.decode(raw) {
        case .success(let decoded):
            print("header: \(decoded.headerJSON)")
            print("claims: \(decoded.payloadJSON)")
        case .failure(let f):
            print("header: (undecodable)")
            print("verdict: rejected \(f.rawValue)")
            print("reason: \(f.message)")
            throw ExitCode(1)
        }
        let apps = cfg.apps.map { AppKeys(clientId: $0.clientId, secrets: $0.secrets.map(\.bytes), shopPatterns: $0.shops) }
        let verifier = TokenVerifier(settings: VerifierSettings(apps: apps, clockSkew: cfg.token.clockSkew.seconds,
                                                                maxLifetime: cfg.token.maxLifetime.seconds),
                                     clock: SystemClock())
        switch verifier.verify(token: raw) {
        case .success(let v):
            let left = v.expiresAt - SystemClock().wallSeconds()
            print("app: \(v.clientId) (secret #\(v.secretIndex)\(v.secretIndex == 0 ? ", current" : ", previous"))")
            print("shop: \(v.shopDomain)")
            if let c = v.customerGID { print("customer: \(c)") } else if let s = v.staffUserId { print("staff user: \(s)") } else { print("customer: (anonymous)") }
            print("expires: in \(left)s")
            print("verdict: accepted")
        case .failure(let f):
            print("verdict: rejected \(f.rawValue)")
            print("reason: \(f.message)")
            throw ExitCode(1)
        }
    }
}
