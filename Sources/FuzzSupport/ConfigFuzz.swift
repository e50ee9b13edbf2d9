import GatewayConfig
import GatewayCore

/// `fuzz-config`: the `gateway.yaml` loader on arbitrary bytes, with a fixed environment and an injected file
/// reader (the fuzzer never reads the machine's files): every secret from `{env:}` or `{file:}` is a canary value.
///
/// - Never a crash; loading the same bytes twice gives equal reports (config, secrets and issues).
/// - No canary ever appears in the summary `check` prints, in the config's description or dump, or in an issue; a
///   secret's own description never holds its value; a password in a Redis URL never appears in the summary.
/// - Secrets hold exactly what their source gave (a file's trailing newlines dropped).
public enum ConfigFuzz {
    static let envCanary = "ENVCANARY7f3a9c1e5b"
    static let fileCanary = "FILECANARY2b8d41aa0c"
    static let environment = ["SHOPIFY_API_SECRET": envCanary, "REDIS_PASSWORD": envCanary, "SECRET": envCanary,
                              "EMPTY": ""]

    /// A path ending in `/` is a directory, one naming `missing` or `unreadable` is that; every other file holds the
    /// file canary and a newline.
    static func readFile(_ path: String) -> Result<[UInt8], FileProblem> {
        if path.hasSuffix("/") { return .failure(.directory) }
        if path.contains("missing") { return .failure(.missing) }
        if path.contains("unreadable") { return .failure(.unreadable) }
        if path.contains("empty") { return .success([0x0A]) }
        return .success(Array((fileCanary + "\n").utf8))
    }

    static func load(_ yaml: String) -> ConfigReport {
        ConfigLoader.parse(yaml: yaml, fileName: "gateway.yaml", environment: environment, baseDirectory: "/etc/fuzz",
                           fileReader: readFile)
    }

    public static func check(_ d: UnsafeRawBufferPointer) throws(InvariantViolation) {
        let yaml = String(decoding: d, as: UTF8.self)
        let first = load(yaml)
        let second = load(yaml)
        guard fingerprint(first) == fingerprint(second) else {
            throw InvariantViolation("config", "two loads differ:\n\(fingerprint(first))\n---\n\(fingerprint(second))")
        }
        // The fuzzer may write a canary into the YAML itself; then it may legitimately be echoed.
        let canaries = [envCanary, fileCanary].filter { !yaml.contains($0) }
        var printed = first.issues.map { "\($0) \($0.message)" }
        if let config = first.config {
            printed += [config.summary(), String(describing: config), String(reflecting: config)]
            var dumped = ""
            dump(config, to: &dumped)
            printed.append(dumped)
            for secret in secrets(config) {
                try checkSecret(secret)
                printed.append(String(describing: secret))
            }
            if config.replay.store == .redis, let endpoint = try? config.replay.redis.endpoint(), let pw = endpoint.password,
               !pw.isEmpty, config.summary().contains(":" + String(decoding: pw, as: UTF8.self) + "@") {
                throw InvariantViolation("config", "the summary shows the Redis URL's password:\n\(config.summary())")
            }
        }
        for text in printed {
            for canary in canaries where text.contains(canary) {
                throw InvariantViolation("config", "a secret value is printed: \(text)")
            }
        }
    }

    static func secrets(_ config: GatewayConfig) -> [Secret] {
        config.apps.flatMap(\.secrets) + (config.replay.redis.password.map { [$0] } ?? [])
    }

    static func checkSecret(_ s: Secret) throws(InvariantViolation) {
        switch s.source {
        case .env:
            guard s.bytes == Array(envCanary.utf8) else { throw InvariantViolation("config", "env secret \(s) holds other bytes") }
        case .file:
            guard s.bytes == Array(fileCanary.utf8) else { throw InvariantViolation("config", "file secret \(s) holds other bytes") }
        case .value:
            guard !s.bytes.isEmpty else { throw InvariantViolation("config", "an empty value secret was accepted") }
            let value = String(decoding: s.bytes, as: UTF8.self)
            let shown = [s.description, s.debugDescription, String(describing: s), String(reflecting: s)]
            // Only a value that is not part of the redaction text itself can be looked for.
            if !"value (redacted)".contains(value), let leak = shown.first(where: { $0.contains(value) }) {
                throw InvariantViolation("config", "a value secret is shown: \(leak)")
            }
        }
    }

    /// Everything a load produced, as text (the config's reflection redacts secrets, so their bytes are added).
    static func fingerprint(_ r: ConfigReport) -> String {
        var text = r.issues.map { "\($0) [\($0.severity)]" }.joined(separator: "\n")
        if let config = r.config {
            text += "\n" + String(reflecting: config)
            text += "\n" + secrets(config).map { FuzzInput.hex($0.bytes) }.joined(separator: ",")
        }
        return text
    }
}
