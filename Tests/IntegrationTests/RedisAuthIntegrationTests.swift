import Foundation
import GatewayConfig
import GatewayCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A Redis that wants a login: `requirepass`, an ACL user, a database other than 0. Each test runs its own real
/// `redis-server` on a free port and SIGKILLs it at the end.
@Suite("Replay store: redis with AUTH and SELECT", .serialized)
struct RedisAuthIntegrationTests {
    static let password = "Redis-Pw-7f3a9c"
    static let keyPrefix = RedisReplayIntegrationTests.keyPrefix

    static func stack(_ redis: RedisServerProcess, url: String? = nil, username: String = "",
                      password: String? = nil) throws -> TestStack {
        try TestStack(loops: 1) { c in
            c.replay.store = .redis
            c.replay.redis.url = url ?? redis.url
            c.replay.redis.username = username
            c.replay.redis.password = password.map { Secret(source: .env("REDIS_PASSWORD"), bytes: Array($0.utf8)) }
            c.replay.redis.keyPrefix = keyPrefix
            // Generous: a loaded machine must not turn a healthy Redis into `unavailable`.
            c.replay.redis.timeout = .seconds(2)
        }
    }

    static func key(_ jti: String) -> String { "\(keyPrefix)\(TestStack.clientId):\(jti)" }

    /// One token used twice: admitted, then `token_replayed`. Returns its `jti`.
    static func admitThenReplay(_ stack: TestStack) throws -> String {
        let jti = UUID().uuidString
        let token = Tok.valid(jti: jti)
        let first = try stack.send("GET", "/orders", token: token)
        #expect(first.status == 200, "first use: \(first.bodyText)")
        expectAnswer(try stack.send("GET", "/orders", token: token), status: 401, code: "token_replayed")
        return jti
    }

    @Test("requirepass: the right password admits, then rejects the replay, also after Redis restarts")
    func requirepassRightPassword() throws {
        let redis = try RedisServerProcess(arguments: ["--requirepass", Self.password])
        defer { redis.stop() }
        let stack = try Self.stack(redis, password: Self.password)
        defer { stack.stop() }
        #expect(try RedisReplayIntegrationTests.readyz(stack) == 200)

        let jti = try Self.admitThenReplay(stack)
        #expect(redis.cli(["EXISTS", Self.key(jti)], password: Self.password) == "1")

        // A new connection has to log in again: Redis forgets AUTH with the connection.
        redis.stop()
        expectAnswer(try stack.send("GET", "/orders", token: Tok.valid()), status: 503, code: "replay_store_unavailable")
        #expect(try RedisReplayIntegrationTests.readyz(stack) == 503)
        try redis.start()
        #expect(try RedisReplayIntegrationTests.readyz(stack) == 200)
        #expect(try stack.send("GET", "/orders", token: Tok.valid()).status == 200)
    }

    @Test("requirepass: a wrong password is 503 replay_store_unavailable, logged once, and no output holds a password")
    func requirepassWrongPassword() throws {
        let wrong = "Wrong-Pw-41d2e8"
        let redis = try RedisServerProcess(arguments: ["--requirepass", Self.password])
        defer { redis.stop() }
        let (listen, admin, echoPort) = (try freePort(), try freePort(), try freePort())
        let yaml = TempConfig.yaml(listen: listen, admin: admin, upstream: echoPort) + """
        replay:
          store: redis
          redis:
            url: "redis://127.0.0.1:\(redis.port)/0"
            password: {env: REDIS_PASSWORD}
            timeout: 2s
            on_unavailable: reject

        """
        let config = try TempConfig(yaml)
        defer { config.remove() }
        let env = ["SHOPIFY_API_SECRET": TestStack.secret, "REDIS_PASSWORD": wrong]
        let echo = try GatewayBinary(["echo-backend", "--listen", "127.0.0.1:\(echoPort)"])
        defer { echo.kill() }
        let gw = try GatewayBinary(["serve", "--config", config.path], environment: env)
        defer { gw.kill() }
        #expect(waitForListener(port: echoPort))
        #expect(waitForListener(port: listen), "gateway did not start: \(gw.stderr)")

        for _ in 0..<3 {
            let c = try RawClient(port: listen)
            c.send(httpRequest("GET", "/api/x", token: Tok.valid()))
            expectAnswer(c.readResponse(), status: 503, code: "replay_store_unavailable")
        }
        let ready = try RawClient(port: admin)
        ready.send(httpRequest("GET", "/readyz"))
        #expect(ready.readResponse()?.status == 503)
        let metrics = try RawClient(port: admin)
        metrics.send(httpRequest("GET", "/metrics"))
        let metricsText = metrics.readResponse()?.bodyText ?? ""

        #expect(gw.waitForOutput("redis login failed"), "stderr: \(gw.stderr)")
        gw.signal(SIGTERM)
        #expect(gw.waitForExit() == 0)
        let output = gw.stdout + gw.stderr
        #expect(output.contains("WRONGPASS"), "the server's reason should be logged: \(output)")
        // Once per connection while the failure repeats, not once per request.
        #expect(output.components(separatedBy: "redis login failed").count - 1 <= 2, "\(output)")

        let checked = try runProcess(gatewayBinary(), ["check", "--config", config.path],
                                     environment: ProcessInfo.processInfo.environment.merging(env) { $1 })
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stdout.contains("password env:REDIS_PASSWORD (redacted)"), "\(checked.stdout)")
        for text in [output, metricsText, checked.stdout, checked.stderr] {
            #expect(!text.contains(wrong))
            #expect(!text.contains(Self.password))
        }
    }

    @Test("a password in the url: check refuses it twice and never prints it; the url form alone is accepted")
    func checkNeverPrintsAURLPassword() throws {
        let base = TempConfig.yaml(listen: 1, admin: 2, upstream: 3)
        let url = "redis://:\(Self.password)@127.0.0.1:6379/0"
        let accepted = try TempConfig(base + "replay: {store: redis, redis: {url: \"\(url)\"}}\n")
        defer { accepted.remove() }
        let twice = try TempConfig(base + "replay: {store: redis, redis: {url: \"\(url)\", password: {env: SHOPIFY_API_SECRET}}}\n")
        defer { twice.remove() }
        let several = try TempConfig(base + "replay: {store: redis, redis: {url: \"rediss://:\(Self.password)@h1,h2:6380/0\"}}\n")
        defer { several.remove() }
        let env = ProcessInfo.processInfo.environment.merging(["SHOPIFY_API_SECRET": TestStack.secret]) { $1 }

        let ok = try runProcess(gatewayBinary(), ["check", "--config", accepted.path], environment: env)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("redis://127.0.0.1:6379/0, AUTH as default, password in url (redacted)"), "\(ok.stdout)")
        let refused = try runProcess(gatewayBinary(), ["check", "--config", twice.path], environment: env)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("replay.redis.password: a password is given both in replay.redis.url and here"),
                "\(refused.stderr)")
        let unsupported = try runProcess(gatewayBinary(), ["check", "--config", several.path], environment: env)
        #expect(unsupported.status == 1)
        #expect(unsupported.stderr.contains("replay.redis.url: redis:// and rediss:// take one host"), "\(unsupported.stderr)")
        for r in [ok, refused, unsupported] {
            #expect(!(r.stdout + r.stderr).contains(Self.password))
        }
    }

    @Test("an ACL user logs in with username and password (AUTH username password)")
    func aclUser() throws {
        let redis = try RedisServerProcess(arguments: ["--requirepass", "default-user-pw"])
        defer { redis.stop() }
        let acl = redis.cli(["ACL", "SETUSER", "sgw", "on", ">\(Self.password)", "~\(Self.keyPrefix)*",
                             "+set", "+del", "+ping", "+select", "+auth"], password: "default-user-pw")
        #expect(acl == "OK", "ACL SETUSER: \(acl)")
        let stack = try Self.stack(redis, username: "sgw", password: Self.password)
        defer { stack.stop() }
        #expect(try RedisReplayIntegrationTests.readyz(stack) == 200)

        let jti = try Self.admitThenReplay(stack)
        // Checked as the default user: sgw may only SET, DEL and PING.
        #expect(redis.cli(["EXISTS", Self.key(jti)], password: "default-user-pw") == "1")

        // The same password without the user is the default user's login, which it is not: unavailable.
        let anonymous = try Self.stack(redis, password: Self.password)
        defer { anonymous.stop() }
        expectAnswer(try anonymous.send("GET", "/orders", token: Tok.valid()), status: 503, code: "replay_store_unavailable")
    }

    @Test("redis://:pw@host:port/3 logs in and selects db 3: the key lands there, not in db 0")
    func selectsTheDatabase() throws {
        let redis = try RedisServerProcess(arguments: ["--requirepass", Self.password])
        defer { redis.stop() }
        let stack = try Self.stack(redis, url: "redis://:\(Self.password)@127.0.0.1:\(redis.port)/3")
        defer { stack.stop() }

        let jti = try Self.admitThenReplay(stack)
        #expect(redis.cli(["EXISTS", Self.key(jti)], password: Self.password, database: 3) == "1")
        #expect(redis.cli(["EXISTS", Self.key(jti)], password: Self.password, database: 0) == "0")
    }
}
