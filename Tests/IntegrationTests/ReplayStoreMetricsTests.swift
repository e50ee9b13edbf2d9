import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What an operator sees of the replay store through the real binary: `/metrics` (only the executable bootstraps
/// Prometheus) and the warning on stderr. Each test runs its own `redis-server`, SIGKILLed at the end.
@Suite("Replay store: metrics and the unchecked-admit warning", .serialized)
final class ReplayStoreMetricsTests {
    let env = ["SHOPIFY_API_SECRET": TestStack.secret]

    /// `serve` with `replay.store: redis` at `redisPort`, in front of the bundled echo backend; both listening.
    func start(redisPort: Int, onUnavailable: String) throws -> (gw: GatewayBinary, echo: GatewayBinary, admin: Int, listen: Int,
                                                               config: TempConfig) {
        let (listen, admin, echoPort) = (try freePort(), try freePort(), try freePort())
        let yaml = TempConfig.yaml(listen: listen, admin: admin, upstream: echoPort) + """
            replay:
              mode: single-use
              store: redis
              redis: {url: "redis://127.0.0.1:\(redisPort)/0", key_prefix: "sgw-metrics:", timeout: 2s, on_unavailable: \(onUnavailable)}

            """
        let config = try TempConfig(yaml)
        let echo = try GatewayBinary(["echo-backend", "--listen", "127.0.0.1:\(echoPort)"])
        let gw: GatewayBinary
        do { gw = try GatewayBinary(["serve", "--config", config.path], environment: env) } catch {
            echo.kill()
            config.remove()
            throw error
        }
        #expect(waitForListener(port: echoPort))
        #expect(waitForListener(port: listen), "gateway did not start: \(gw.stderr)")
        return (gw, echo, admin, listen, config)
    }

    func get(_ port: Int, _ target: String, token: String? = nil) throws -> HTTPTestResponse? {
        let c = try RawClient(port: port)
        c.send(httpRequest("GET", target, token: token))
        return c.readResponse()
    }

    func metrics(_ admin: Int) throws -> String {
        try #require(try get(admin, "/metrics")).bodyText
    }

    /// The value of the sample whose line starts with `prefix` (name, and labels if any) in Prometheus text.
    func sample(_ text: String, _ prefix: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(prefix + " ") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    @Test("Redis unreachable, on_unavailable: allow -> 200, gateway_replay_unchecked_total 1, one warning, error kind connection")
    func uncheckedAdmitIsCountedAndWarned() throws {
        let closed = try RedisServerProcess.freePort()  // nothing listens here: every admit is refused at once
        let (gw, echo, admin, listen, config) = try start(redisPort: closed, onUnavailable: "allow")
        defer { gw.kill(); echo.kill(); config.remove() }

        let before = try metrics(admin)
        // Present from the start at 0, so an alert on its rate sees the first one.
        #expect(sample(before, "gateway_replay_unchecked_total") == 0, "\(before)")
        #expect(sample(before, #"gateway_replay_store_errors_total{kind="connection"}"#) == 0, "\(before)")

        let r = try #require(try get(listen, "/api/x", token: Tok.valid()))
        #expect(r.status == 200, "allow: \(r.bodyText)")

        let after = try metrics(admin)
        #expect(sample(after, "gateway_replay_unchecked_total") == 1, "\(after)")
        #expect(sample(after, #"gateway_replay_store_errors_total{kind="connection"}"#) == 1, "\(after)")
        #expect(sample(after, #"gateway_replay_store_errors_total{kind="timeout"}"#) == 0, "\(after)")
        #expect(sample(after, "gateway_replay_store_duration_seconds_count") == 1, "\(after)")
        #expect(gw.waitForOutput("admitted without a replay check"), "no warning: \(gw.stderr)")
        #expect(gw.stderr.contains("unchecked"), "the warning carries the count: \(gw.stderr)")
    }

    @Test("admits through a real Redis are timed: gateway_replay_store_duration_seconds counts each, no unchecked, no errors")
    func storeRoundTripsAreTimed() throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let (gw, echo, admin, listen, config) = try start(redisPort: redis.port, onUnavailable: "allow")
        defer { gw.kill(); echo.kill(); config.remove() }

        let name = "gateway_replay_store_duration_seconds"
        let before = try metrics(admin)
        for line in ["# TYPE \(name) histogram", "\(name)_bucket{le=\"0.00025\"}", "\(name)_bucket{le=\"+Inf\"}"] {
            #expect(before.contains(line), "missing \(line) in /metrics:\n\(before)")
        }
        let countBefore = sample(before, "\(name)_count") ?? 0

        let token = Tok.valid()
        #expect(try get(listen, "/api/x", token: token)?.status == 200)
        #expect(try get(listen, "/api/x", token: token)?.status == 401)
        #expect(try get(listen, "/api/y", token: Tok.valid())?.status == 200)
        // Routes without a token never ask the store.
        #expect(try get(listen, "/public/x")?.status == 200)

        let after = try metrics(admin)
        #expect(sample(after, "\(name)_count") == countBefore + 3, "\(after)")
        #expect((sample(after, "\(name)_sum") ?? -1) >= 0, "\(after)")
        #expect(sample(after, "gateway_replay_unchecked_total") == 0, "\(after)")
        for kind in ["timeout", "connection", "reply", "full"] {
            #expect(sample(after, "gateway_replay_store_errors_total{kind=\"\(kind)\"}") == 0, "\(after)")
        }
        #expect(!gw.stderr.contains("admitted without a replay check"), "\(gw.stderr)")
    }
}
