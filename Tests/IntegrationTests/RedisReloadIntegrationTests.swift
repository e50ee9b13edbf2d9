import Foundation
import GatewayConfig
import GatewayCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP and the replay store: a reload that changes what the store is made from (here a rotated Redis password,
/// read from a file) builds a new store; admits in flight finish on the old one.
@Suite("Replay store: reloads", .serialized)
struct RedisReloadIntegrationTests {
    func get(_ port: Int, _ target: String, token: String? = nil) throws -> HTTPTestResponse? {
        let c = try RawClient(port: port)
        c.send(httpRequest("GET", target, token: token))
        return c.readResponse()
    }

    @Test("a rotated Redis password in a file takes effect on SIGHUP, without a restart")
    func passwordRotationOnReload() throws {
        let (old, new) = ("Old-Pw-6c1d", "New-Pw-93ab")
        let redis = try RedisServerProcess(arguments: ["--requirepass", old])
        defer { redis.stop() }
        let dir = try TemporaryDirectory(prefix: "sgw-reload-")
        defer { dir.remove() }
        let passwordFile = dir.file("redis-password")
        try old.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let (listen, admin, echoPort) = (try freePort(), try freePort(), try freePort())
        let yaml = TempConfig.yaml(listen: listen, admin: admin, upstream: echoPort) + """
        replay:
          store: redis
          redis:
            url: "redis://127.0.0.1:\(redis.port)/0"
            password: {file: \(passwordFile)}
            timeout: 2s

        """
        let config = try TempConfig(yaml)
        defer { config.remove() }
        let echo = try GatewayBinary(["echo-backend", "--listen", "127.0.0.1:\(echoPort)"])
        defer { echo.kill() }
        let gw = try GatewayBinary(["serve", "--config", config.path], environment: ["SHOPIFY_API_SECRET": TestStack.secret])
        defer { gw.kill() }
        #expect(waitForListener(port: echoPort))
        #expect(waitForListener(port: listen), "gateway did not start: \(gw.stderr)")
        #expect(try get(listen, "/api/x", token: Tok.valid())?.status == 200)

        // The operator rotates: Redis takes the new password and drops every logged-in connection.
        #expect(redis.cli(["CONFIG", "SET", "requirepass", new], password: old) == "OK")
        _ = redis.cli(["CLIENT", "KILL", "TYPE", "normal"], password: new)
        // The old store logs in with the old password: refused.
        var refused = false
        for _ in 0..<50 {
            let c = try RawClient(port: listen)
            c.send(httpRequest("GET", "/api/x", token: Tok.valid()))
            if c.readResponse()?.status == 503 { refused = true; break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(refused, "the old password still worked: \(gw.stderr)")

        try new.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        gw.signal(SIGHUP)
        #expect(gw.waitForOutput("replay store rebuilt"), "no rebuild log line: \(gw.stderr)")
        #expect(gw.waitForOutput("config reloaded"), "\(gw.stderr)")
        let token = Tok.valid()
        #expect(try get(listen, "/api/x", token: token)?.status == 200)
        #expect(try get(listen, "/api/x", token: token)?.status == 401)
        #expect(try get(admin, "/readyz")?.status == 200)
        gw.signal(SIGTERM)
        #expect(gw.waitForExit() == 0)
        for text in [gw.stdout, gw.stderr] {
            #expect(!text.contains(old))
            #expect(!text.contains(new))
        }
    }
}
