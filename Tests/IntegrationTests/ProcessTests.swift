import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `serve` and `echo-backend` as real processes: requests, /metrics, SIGHUP reload, SIGTERM drain, no token in output.
@Suite(.serialized) final class ProcessTests {
    let env = ["SHOPIFY_API_SECRET": TestStack.secret]

    func mint(_ config: TempConfig) throws -> String {
        let r = try runProcess(gatewayBinary(), ["token", "mint", "--config", config.path, "--shop", "a.myshopify.com", "--customer", "42"],
                               environment: ProcessInfo.processInfo.environment.merging(env) { _, b in b })
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `serve` on `config` in front of the bundled echo backend, both listening (checked) when this returns.
    func startWithEcho(_ config: TempConfig, listen: Int, echoPort: Int) throws -> (gw: GatewayBinary, echo: GatewayBinary) {
        let echo = try GatewayBinary(["echo-backend", "--listen", "127.0.0.1:\(echoPort)"])
        let gw: GatewayBinary
        do { gw = try GatewayBinary(["serve", "--config", config.path], environment: env) } catch {
            echo.kill()
            throw error
        }
        #expect(waitForListener(port: echoPort))
        #expect(waitForListener(port: listen), "gateway did not start: \(gw.stderr)")
        return (gw, echo)
    }

    /// The value of `gateway_requests_total` for one route and status in Prometheus text, nil when absent.
    func requestCount(_ metrics: String, route: String, code: String) -> Int? {
        for line in metrics.split(separator: "\n") where line.hasPrefix("gateway_requests_total{")
            && line.contains("route=\"\(route)\"") && line.contains("code=\"\(code)\"") {
            return line.split(separator: " ").last.flatMap { Int($0) }
        }
        return nil
    }

    /// The value of an unlabelled sample (`name value`) in Prometheus text, nil when absent.
    func sample(_ metrics: String, _ name: String) -> Double? {
        for line in metrics.split(separator: "\n") where line.hasPrefix(name + " ") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    func get(_ port: Int, _ target: String, token: String? = nil) throws -> HTTPTestResponse? {
        let c = try RawClient(port: port)
        c.send(httpRequest("GET", target, token: token))
        return c.readResponse()
    }

    @Test func serveForwardsExposesMetricsAndLogsNoToken() throws {
        let (listen, admin, echoPort) = (try freePort(), try freePort(), try freePort())
        let config = try TempConfig(TempConfig.yaml(listen: listen, admin: admin, upstream: echoPort))
        defer { config.remove() }
        let (gw, echo) = try startWithEcho(config, listen: listen, echoPort: echoPort)
        defer { gw.kill(); echo.kill() }

        let token = try mint(config)
        let ok = try #require(try get(listen, "/api/x", token: token))
        #expect(ok.status == 200)
        #expect(ok.echoedHeaders["x-shop-domain"] == "a.myshopify.com")
        #expect(ok.echoedHeaders["x-customer-id"] == "gid://shopify/Customer/42")
        let replayed = try #require(try get(listen, "/api/x", token: token))
        #expect(replayed.status == 401)
        let expired = Tok.valid(iat: Tok.now - 1000)
        #expect(try get(listen, "/api/x", token: expired)?.status == 401)
        #expect(try get(listen, "/api/x?id_token=\(token)")?.status == 401)
        #expect(try get(listen, "/api/y", token: try mint(config))?.status == 200)

        #expect(try get(admin, "/healthz")?.status == 200)
        #expect(try get(admin, "/readyz")?.status == 200)
        let metrics = try #require(try get(admin, "/metrics"))
        #expect(metrics.status == 200)
        for name in ["gateway_requests_total", "gateway_auth_rejections_total", "gateway_request_duration_seconds",
                     "gateway_connections_open", "gateway_replay_entries"] {
            #expect(metrics.bodyText.contains(name), "missing \(name) in /metrics:\n\(metrics.bodyText)")
        }
        #expect(metrics.bodyText.contains("token_replayed") || metrics.bodyText.contains("reason"), "\(metrics.bodyText)")
        // 200, three 401s, 200 on one route: each status keeps its own count as they alternate.
        #expect(requestCount(metrics.bodyText, route: "/api", code: "200") == 2, "\(metrics.bodyText)")
        #expect(requestCount(metrics.bodyText, route: "/api", code: "401") == 3, "\(metrics.bodyText)")
        // Both durations are histograms in seconds with the gateway's buckets, 250 µs to 30 s.
        for name in ["gateway_request_duration_seconds", "gateway_upstream_request_duration_seconds"] {
            for line in ["# TYPE \(name) histogram", "\(name)_bucket{le=\"0.00025\"}", "\(name)_bucket{le=\"0.05\"}",
                         "\(name)_bucket{le=\"30.0\"}", "\(name)_bucket{le=\"+Inf\"}", "\(name)_sum", "\(name)_count"] {
                #expect(metrics.bodyText.contains(line), "missing \(line) in /metrics:\n\(metrics.bodyText)")
            }
        }
        // Every exchange is timed, and the upstream time only for the two that reached the upstream.
        #expect(sample(metrics.bodyText, "gateway_request_duration_seconds_count") == 5, "\(metrics.bodyText)")
        #expect(sample(metrics.bodyText, "gateway_upstream_request_duration_seconds_count") == 2, "\(metrics.bodyText)")

        gw.signal(SIGTERM)
        #expect(gw.waitForExit() == 0, "stderr: \(gw.stderr)")
        let output = gw.stdout + gw.stderr
        #expect(output.contains("/api/x"), "the access log should be on stdout: \(output)")
        for t in [token, expired] {
            #expect(!output.contains(t))
            #expect(!output.contains(Tok.signature(t)), "signature in the process output")
        }
        #expect(!output.contains(TestStack.secret))
    }

    @Test func sighupReloadsValidConfigAndKeepsOldOnInvalid() throws {
        let (listen, admin, echoPort) = (try freePort(), try freePort(), try freePort())
        let config = try TempConfig(TempConfig.yaml(listen: listen, admin: admin, upstream: echoPort))
        defer { config.remove() }
        let (gw, echo) = try startWithEcho(config, listen: listen, echoPort: echoPort)
        defer { gw.kill(); echo.kill() }
        // A keep-alive connection opened before the reload must survive it.
        let kept = try RawClient(port: listen)
        kept.send(httpRequest("GET", "/public/a"))
        #expect(kept.readResponse()?.status == 200)

        #expect(try get(listen, "/added/x")?.status == 404)
        try config.write(TempConfig.yaml(listen: listen, admin: admin, upstream: echoPort,
                                         extraRoutes: "  - path_prefix: /added\n    auth: none\n    upstream: app\n"))
        gw.signal(SIGHUP)
        #expect(gw.waitForOutput("config reloaded"), "no reload log line: \(gw.stderr)")
        #expect(try get(listen, "/added/x")?.status == 200)
        kept.send(httpRequest("GET", "/added/y"))
        #expect(kept.readResponse()?.status == 200, "connection dropped by the reload")
        // The reload put `/added` at route index 0, where `/public` was: counts must follow the names, not the index.
        let metrics = try #require(try get(admin, "/metrics")).bodyText
        #expect(requestCount(metrics, route: "/public", code: "200") == 1, "\(metrics)")
        #expect(requestCount(metrics, route: "/added", code: "200") == 2, "\(metrics)")

        try config.write("listeners: [oops\n")
        gw.signal(SIGHUP)
        #expect(gw.waitForOutput("reload rejected"), "no rejection log line: \(gw.stderr)")
        #expect(try get(listen, "/added/x")?.status == 200, "an invalid reload must keep the old config")
        #expect(gw.process.isRunning)
    }

    /// Accepted tokens are cached per loop and config: a reload that drops the signing secret must end them at once.
    @Test func aTokenAcceptedBeforeAReloadIsJudgedByTheNewSecrets() throws {
        let (listen, admin, echoPort) = (try freePort(), try freePort(), try freePort())
        let reuse = "  - path_prefix: /reuse\n    auth: required\n    replay: \"off\"\n    upstream: app\n"
        let config = try TempConfig(TempConfig.yaml(listen: listen, admin: admin, upstream: echoPort, extraRoutes: reuse))
        defer { config.remove() }
        let (gw, echo) = try startWithEcho(config, listen: listen, echoPort: echoPort)
        defer { gw.kill(); echo.kill() }
        let token = Tok.valid()
        // Several requests, so every loop has seen (and cached) the token.
        for _ in 0..<6 { #expect(try get(listen, "/reuse/x", token: token)?.status == 200) }

        let rotated = TempConfig.yaml(listen: listen, admin: admin, upstream: echoPort, extraRoutes: reuse)
            .replacingOccurrences(of: "- env: SHOPIFY_API_SECRET", with: "- value: \"a-completely-different-secret-0123456789\"")
        try config.write(rotated)
        gw.signal(SIGHUP)
        #expect(gw.waitForOutput("config reloaded"), "no reload log line: \(gw.stderr)")
        for _ in 0..<6 {
            let r = try #require(try get(listen, "/reuse/x", token: token))
            #expect(r.status == 401)
            #expect(r.bodyText.contains("invalid_signature"), "\(r.bodyText)")
        }
    }

    @Test func sigtermDrainsInFlightRequestThenExitsZero() throws {
        let release = DispatchSemaphore(value: 0)
        let upstream = try RawUpstream { conn in
            guard conn.readRequest() != nil else { return }
            _ = release.wait(timeout: .now() + 20)
            conn.send("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")
        }
        defer { upstream.stop() }
        let (listen, admin) = (try freePort(), try freePort())
        let config = try TempConfig(TempConfig.yaml(listen: listen, admin: admin, upstream: upstream.port))
        defer { config.remove() }
        let gw = try GatewayBinary(["serve", "--config", config.path], environment: env)
        defer { gw.kill() }
        #expect(waitForListener(port: listen), "gateway did not start: \(gw.stderr)")

        let c = try RawClient(port: listen)
        c.send(httpRequest("GET", "/public/slow"))
        for _ in 0..<500 where upstream.requests == 0 { usleep(10_000) }
        #expect(upstream.requests == 1)

        gw.signal(SIGTERM)
        #expect(gw.waitForOutput("draining"), "SIGTERM not handled: \(gw.stderr)")
        // While draining, readiness fails and new connections are refused or closed.
        // The log line comes just before the drain flag is set: poll until readiness flips.
        var readyz = try get(admin, "/readyz")
        for _ in 0..<100 where readyz?.status == 200 {
            usleep(20_000)
            readyz = try get(admin, "/readyz")
        }
        #expect(readyz?.status == 503, "readyz while draining: \(readyz?.status ?? 0) \(readyz?.bodyText ?? "no response")")
        release.signal()
        let r = try #require(c.readResponse(timeout: 10))
        #expect(r.status == 200)
        #expect(r.bodyText == "slow")
        #expect(r.header("Connection")?.lowercased() == "close")
        #expect(gw.waitForExit() == 0, "stderr: \(gw.stderr)")
    }

    /// `serve` with `shutdown.readiness_grace` set, and the echo backend, both listening.
    func startWithGrace(_ grace: String) throws -> (gw: GatewayBinary, echo: GatewayBinary, listen: Int, admin: Int, config: TempConfig) {
        let (listen, admin, echoPort) = (try freePort(), try freePort(), try freePort())
        let yaml = TempConfig.yaml(listen: listen, admin: admin, upstream: echoPort)
            .replacingOccurrences(of: "  drain_timeout: 10s", with: "  readiness_grace: \(grace)\n  drain_timeout: 10s")
        let config = try TempConfig(yaml)
        let (gw, echo) = try startWithEcho(config, listen: listen, echoPort: echoPort)
        return (gw, echo, listen, admin, config)
    }

    /// Polls `/readyz` until it stops answering 200 (a signal is handled asynchronously), returns the last answer.
    func readyzAfterSignal(_ admin: Int) throws -> HTTPTestResponse? {
        var readyz = try get(admin, "/readyz")
        for _ in 0..<100 where readyz?.status == 200 {
            usleep(20_000)
            readyz = try get(admin, "/readyz")
        }
        return readyz
    }

    /// The grace is 2 s rather than 1 s so the requests below fit in it on a loaded machine; nothing is timed.
    @Test func readinessGraceFailsReadyzButServesNewConnectionsThenDrains() throws {
        let (gw, echo, listen, admin, config) = try startWithGrace("2s")
        defer { gw.kill(); echo.kill(); config.remove() }
        let kept = try RawClient(port: listen)
        kept.send(httpRequest("GET", "/public/before"))
        #expect(kept.readResponse()?.status == 200)

        gw.signal(SIGTERM)
        let readyz = try readyzAfterSignal(admin)
        #expect(readyz?.status == 503, "readyz after SIGTERM: \(readyz?.status ?? 0) \(readyz?.bodyText ?? "no response")")
        // Served as usual: a new connection, and the keep-alive one, which is not told to close.
        let fresh = try #require(try get(listen, "/public/new"))
        #expect(fresh.status == 200)
        kept.send(httpRequest("GET", "/public/kept"))
        let again = try #require(kept.readResponse())
        #expect(again.status == 200)
        #expect(again.header("Connection")?.lowercased() != "close")

        #expect(gw.waitForExit() == 0, "stderr: \(gw.stderr)")
        // The drain came after the grace.
        let err = gw.stderr
        let graceLine = try #require(err.range(of: "readiness grace"), "no grace log line: \(err)")
        let drainLine = try #require(err.range(of: "\"draining\""), "no drain log line: \(err)")
        #expect(graceLine.lowerBound < drainLine.lowerBound)
    }

    @Test func aSecondSigtermDuringTheReadinessGraceDrainsAtOnce() throws {
        let (gw, echo, _, admin, config) = try startWithGrace("10m")
        defer { gw.kill(); echo.kill(); config.remove() }
        gw.signal(SIGTERM)
        #expect(try readyzAfterSignal(admin)?.status == 503)
        gw.signal(SIGTERM)
        #expect(gw.waitForExit() == 0, "stderr: \(gw.stderr)")
        #expect(gw.stderr.contains("\"draining\""), "\(gw.stderr)")
    }
}
