import Foundation
import GatewayConfig
import GatewayCore
import Testing

/// `replay.redis.url`, `username` and `password`: the one URL parser, the login keys, and the password kept out of
/// every error and summary.
@Suite struct RedisConfigTests {
    static let password = "pw-Zebra-9931"

    func yaml(_ redis: String) -> String { minimalYAML + "\nreplay:\n  store: redis\n  redis: \(redis)\n" }

    @Test func defaultsHaveNoLogin() throws {
        let config = try #require(parse(minimalYAML).config)
        #expect(config.replay.redis.username == "")
        #expect(config.replay.redis.password == nil)
        #expect(try config.replay.redis.endpoint() == RedisEndpoint(host: "127.0.0.1"))
    }

    @Test func passwordInTheURLIsAccepted() throws {
        let report = parse(yaml("{url: \"redis://:\(Self.password)@cache.internal:6379/0\"}"))
        #expect(report.issues.isEmpty, "\(report.issues)")
        let config = try #require(report.config)
        #expect(try config.replay.redis.endpoint()
            == RedisEndpoint(host: "cache.internal", database: 0, password: Array(Self.password.utf8)))
        #expect(!config.summary().contains(Self.password))
        #expect(config.summary().contains("redis://cache.internal:6379/0, AUTH as default, password in url (redacted), standalone, tls off, prefix"))
    }

    @Test func usernameAndPasswordKeys() throws {
        let yaml = yaml("{url: \"redis://[::1]:7000/3\", username: sgw, password: {env: REDIS_PASSWORD}}")
        let report = parse(yaml, environment: testEnvironment.merging(["REDIS_PASSWORD": Self.password]) { $1 })
        #expect(report.issues.isEmpty, "\(report.issues)")
        let config = try #require(report.config)
        #expect(config.replay.redis.username == "sgw")
        #expect(config.replay.redis.password?.source == .env("REDIS_PASSWORD"))
        #expect(try config.replay.redis.endpoint()
            == RedisEndpoint(host: "::1", port: 7000, database: 3, username: "sgw", password: Array(Self.password.utf8)))
        let summary = config.summary()
        #expect(!summary.contains(Self.password))
        #expect(summary.contains("redis://sgw@[::1]:7000/3, AUTH as sgw, password env:REDIS_PASSWORD (redacted)"), "\(summary)")
        var dumped = ""
        dump(config, to: &dumped)
        #expect(!dumped.contains(Self.password))
    }

    @Test func passwordFromFileAndValue() throws {
        let dir = try temporaryDirectory()
        try Data((Self.password + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/redis.pw"))
        let fromFile = parse(yaml("{password: {file: redis.pw}}"), base: dir)
        #expect(fromFile.issues.isEmpty, "\(fromFile.issues)")
        #expect(try fromFile.config?.replay.redis.endpoint().password == Array(Self.password.utf8))

        // Like an app secret written inline: accepted, with the same warning.
        let inline = parse(yaml("{password: {value: \"\(Self.password)\"}}"))
        #expect(inline.errors.isEmpty)
        #expect(inline.issues.map(\.description) == [
            "gateway.yaml:12:29: replay.redis.password.value: warning: secret written in the config file; prefer {env: NAME} or {file: PATH}",
        ])
        #expect(inline.config?.summary().contains("password value (redacted)") == true)
        #expect(inline.config?.summary().contains(Self.password) == false)
    }

    @Test func passwordSourceErrorsAreTheSecretOnes() {
        #expect(errors(yaml("{password: {env: NOPE}}")) == [
            "gateway.yaml:12:27: replay.redis.password.env: environment variable NOPE is not set or is empty",
        ])
        #expect(errors(yaml("{password: {env: A, value: b}}")) == [
            "gateway.yaml:12:21: replay.redis.password: a secret needs exactly one of env, file or value (found env and value)",
        ])
    }

    @Test func passwordTwiceIsAnError() {
        let found = errors(yaml("{url: \"redis://:\(Self.password)@h:6379\", password: {env: SECRET}}"))
        #expect(found == [
            "gateway.yaml:12:59: replay.redis.password: a password is given both in replay.redis.url and here; "
                + "keep one (preferably this key)",
        ])
    }

    @Test func usernameTwiceOrWithoutPassword() {
        #expect(errors(yaml("{url: \"redis://u:p@h\", username: v}")) == [
            "gateway.yaml:12:43: replay.redis.username: a user is given both in replay.redis.url and here; keep one",
        ])
        #expect(errors(yaml("{username: sgw}")) == [
            "gateway.yaml:12:21: replay.redis.username: needs a password (replay.redis.password or in the url): AUTH takes both",
        ])
    }

    /// Every refused URL is reported at the url's line:col, and none of the messages quotes the URL or its password.
    @Test func refusedURLsNeverQuoteThePassword() {
        let forms = "redis[s]://[[user]:password@]host[:port][/db], redis[s]+sentinel://[[user]:password@]host[:port],..."
            + "/MASTER[/db] or redis[s]+cluster://[[user]:password@]host[:port],..."
        let cases: [(String, String)] = [
            ("http://:\(Self.password)@h:6379", "must be \(forms)"),
            ("\(Self.password)@h:6379", "must be \(forms)"),
            ("rediss://:\(Self.password)@h1:6380,h2/0",
             "redis:// and rediss:// take one host; list several with redis+sentinel:// or redis+cluster://"),
            ("redis+sentinel://:\(Self.password)@h1:26379,h2:26379",
             "redis+sentinel:// needs the master's name after the hosts (/MASTER[/db]): 1-128 letters, digits, '.', '-' or '_'"),
            ("redis+cluster://:\(Self.password)@n1:6379,n2:6379/2",
             "redis+cluster:// takes no database (Redis Cluster has only database 0): no path or /0"),
            ("rediss+cluster://:\(Self.password)@n1:6379,N1", "node 2 repeats an earlier node"),
            ("redis://\(Self.password)@h:6379", "user info must be ':password' or 'user:password' with a non-empty password, percent-encoded"),
            ("redis://:\(Self.password)@h:0", "port must be 1-65535"),
            ("redis://:\(Self.password)@h:6379/x", "database must be a number 0-99999 after '/'"),
            ("redis://:\(Self.password)@:6379", "host must be a name, an IPv4 address or an [IPv6] address"),
        ]
        for (url, message) in cases {
            let found = errors(yaml("{url: \"\(url)\"}"))
            #expect(found == ["gateway.yaml:12:16: replay.redis.url: \(message)"], "\(url)")
            #expect(!found.joined().contains(Self.password))
        }
    }
}
