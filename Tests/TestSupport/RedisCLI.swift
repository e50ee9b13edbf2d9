import Foundation

/// Runs `redis-cli` against one node: the fixtures' independent way to configure and inspect servers.
public struct RedisCLI: Sendable {
    public let port: Int
    /// `requirepass` of the node, sent with `--pass`.
    public let password: String?
    /// Extra connection options (`--tls --cacert ...`).
    public let options: [String]

    public init(port: Int, password: String? = nil, options: [String] = []) {
        self.port = port
        self.password = password
        self.options = options
    }

    /// Runs one command; returns stdout and stderr together, trimmed ("" when redis-cli could not run).
    /// Non-tty output is raw: one line per element, no quotes, errors as `ERR ...` / `NOAUTH ...`.
    @discardableResult
    public func run(_ args: [String]) -> String {
        var login: [String] = []
        if let password { login = ["--pass", password, "--no-auth-warning"] }
        return runRaw(["-h", "127.0.0.1", "-p", String(port)] + login + options + args)
    }

    /// Runs redis-cli with exactly `arguments` (no host, port or login added).
    func runRaw(_ arguments: [String]) -> String {
        guard let server = try? RedisServerProcess.locateServer() else { return "" }
        let p = Process()
        // redis-cli ships next to redis-server.
        p.executableURL = URL(fileURLWithPath: server).deletingLastPathComponent().appendingPathComponent("redis-cli")
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        do { try p.run() } catch { return "" }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `run` split by line, for list replies. By `isNewline`, not "\n": INFO-style replies end lines with CRLF,
    /// which Swift treats as one Character that is not "\n".
    public func lines(_ args: [String]) -> [String] {
        run(args).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The value of `field:` in an INFO-style reply (`CLUSTER INFO`, `INFO replication`).
    public func info(_ args: [String], field: String) -> String? {
        for line in lines(args) where line.hasPrefix(field + ":") {
            return String(line.dropFirst(field.count + 1))
        }
        return nil
    }
}
