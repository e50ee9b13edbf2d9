import Foundation
import GatewayConfig
import GatewayCore
import Testing

@Suite struct ConfigLoaderTests {
    @Test func minimalDocumentTakesContractDefaults() throws {
        let report = parse(minimalYAML)
        #expect(report.issues.isEmpty)
        let config = try #require(report.config)
        #expect(config.listeners == [ListenerConfig(address: "127.0.0.1:8080")])
        #expect(config.admin == nil)
        #expect(config.apps.first?.shops == ["*.myshopify.com"])
        #expect(config.apps.first?.secrets.first?.bytes == Array("s3cr3t-bytes-from-env".utf8))
        #expect(config.token.clockSkew == .seconds(10))
        #expect(config.token.maxLifetime == .minutes(15))
        #expect(config.replay.mode == .singleUse)
        #expect(config.replay.store == .memory)
        #expect(config.replay.maxEntries == 2_000_000)
        #expect(config.replay.redis.url == "redis://127.0.0.1:6379/0")
        #expect(config.replay.redis.keyPrefix == "sgw:jti:")
        #expect(config.replay.redis.timeout == .milliseconds(50))
        #expect(config.replay.redis.onUnavailable == .reject)
        let upstream = try #require(config.upstreams.first)
        #expect(upstream.connectTimeout == .seconds(2))
        #expect(upstream.responseTimeout == .seconds(30))
        #expect(upstream.idleTimeout == .seconds(60))
        #expect(upstream.maxIdleConnections == 64)
        #expect(upstream.maxConnections == 512)
        #expect(upstream.queueTimeout == .seconds(2))
        #expect(upstream.tls == nil)
        let route = try #require(config.routes.first)
        #expect(route.auth == .required)
        #expect(route.methods == nil)
        #expect(route.replay == nil)
        #expect(route.requireCustomer == false)
        #expect(config.identityHeaders == IdentityHeadersConfig())
        #expect(config.cors == CorsConfig())
        #expect(config.limits.maxHeaderBytes == 32 * 1024)
        #expect(config.limits.maxBodyBytes == 10 * 1024 * 1024)
        #expect(config.limits.headerTimeout == .seconds(10))
        #expect(config.limits.keepaliveTimeout == .seconds(75))
        #expect(config.limits.maxConnections == 10_000)
        #expect(config.limits.tunnelIdleTimeout == .seconds(60))
        #expect(config.shutdown.drainTimeout == .seconds(20))
        #expect(config.logging == LoggingConfig())
    }

    @Test func everyKeyIsRead() throws {
        let yaml = """
        listeners:
          - address: "[::1]:0"
          - address: 0.0.0.0:8443
        admin: {address: 127.0.0.1:0}
        apps:
          - client_id: 1234
            secrets: [{env: SECRET}, {value: "old-secret"}]
            shops: ["Shop-A.myshopify.com", "*.example.com"]
        token: {clock_skew: 0s, max_lifetime: 5m}
        replay:
          mode: single-use
          store: redis
          max_entries: 10
          redis: {url: "redis://redis.internal:6380/2", key_prefix: "x:", timeout: 250ms, on_unavailable: allow}
        upstreams:
          - name: app
            servers: ["127.0.0.1:3000", "backend:3001"]
            tls: {server_name: backend.local, verify: false}
            connect_timeout: 250ms
            response_timeout: 1m
            idle_timeout: 2h
            max_idle_connections: 0
            max_connections: 3
            queue_timeout: 500ms
        routes:
          - path_prefix: /api
            methods: [get, Post]
            auth: optional
            require_customer: true
            replay: off
            upstream: app
            apps: ["1234"]
        identity_headers: {shop_domain: X-Shop, customer_id: X-Cust, customer_id_format: numeric, staff_user_id: X-Staff, forward_token: false,
                           client_id: X-Client}
        cors: {enabled: false, allow_origins: ["null"], allow_headers: [Authorization], expose_headers: [], max_age: 0s}
        limits: {max_header_bytes: 16KiB, max_body_bytes: 512, header_timeout: 5s, keepalive_timeout: 1m, max_connections: 7,
                 tunnel_idle_timeout: 5m}
        shutdown: {drain_timeout: 0s}
        logging: {level: debug, format: text}
        """
        let report = parse(yaml)
        #expect(report.errors.isEmpty, "\(report.errors)")
        let config = try #require(report.config)
        #expect(config.listeners.map(\.address) == ["[::1]:0", "0.0.0.0:8443"])
        #expect(config.admin == AdminConfig(address: "127.0.0.1:0"))
        #expect(config.apps.first?.clientId == "1234")
        #expect(config.apps.first?.secrets.map(\.source) == [.env("SECRET"), .value])
        #expect(config.apps.first?.shops == ["shop-a.myshopify.com", "*.example.com"])
        #expect(config.token.clockSkew == .seconds(0))
        #expect(config.replay.store == .redis && config.replay.maxEntries == 10)
        #expect(config.replay.redis.onUnavailable == .allow && config.replay.redis.timeout == .milliseconds(250))
        #expect(config.upstreams.first?.tls == UpstreamTLSConfig(serverName: "backend.local", caFile: nil, verify: false))
        #expect(config.upstreams.first?.maxIdleConnections == 0)
        #expect(config.upstreams.first?.idleTimeout == .hours(2))
        #expect(config.upstreams.first?.maxConnections == 3)
        #expect(config.upstreams.first?.queueTimeout == .milliseconds(500))
        #expect(config.limits.tunnelIdleTimeout == .minutes(5))
        let route = try #require(config.routes.first)
        #expect(route.methods == ["GET", "POST"])
        #expect(route.auth == .optional && route.requireCustomer && route.replay == .off && route.apps == ["1234"])
        #expect(config.identityHeaders.customerIdFormat == .numeric && !config.identityHeaders.forwardToken)
        #expect(config.identityHeaders.clientId == "X-Client")
        #expect(!config.cors.enabled && config.cors.allowOrigins == ["null"] && config.cors.exposeHeaders.isEmpty)
        #expect(config.limits.maxHeaderBytes == 16384 && config.limits.maxBodyBytes == 512 && config.limits.maxConnections == 7)
        #expect(config.logging == { var l = LoggingConfig(); l.level = .debug; l.format = .text; return l }())
        #expect(report.warnings.map(\.description) == [
            "gateway.yaml:7:38: apps[0].secrets[1].value: warning: secret written in the config file; prefer {env: NAME} or {file: PATH}",
        ])
    }

    /// `check` prints the connection bounds and the tunnel timeout, defaults included.
    @Test func summaryShowsConnectionBoundsAndTunnelTimeout() throws {
        let defaults = try #require(parse(minimalYAML).config).summary()
        #expect(defaults.contains("pool 64, max_connections 512, queue_timeout 2s"))
        #expect(defaults.contains("max_connections 10000, tunnel_idle_timeout 1m"))
        let yaml = minimalYAML.replacingOccurrences(of: "    servers:", with: "    max_connections: 8\n    queue_timeout: 250ms\n    servers:")
            + "\nlimits: {tunnel_idle_timeout: 90s}\n"
        let set = try #require(parse(yaml).config).summary()
        #expect(set.contains("max_connections 8, queue_timeout 250ms"))
        #expect(set.contains("tunnel_idle_timeout 90s"))
    }

    @Test func bareOffMeansReplayOff() throws {
        for spelling in ["off", "false", "\"off\"", "Off", "no"] {
            let yaml = minimalYAML + "\n    replay: \(spelling)\nreplay:\n  mode: \(spelling)\n"
            let config = try #require(parse(yaml).config, "\(spelling)")
            #expect(config.replay.mode == .off)
            #expect(config.routes.first?.replay == .off)
        }
        let shorthand = try #require(parse(minimalYAML + "\nreplay: off\n").config)
        #expect(shorthand.replay.mode == .off)
    }

    @Test func replayTrueIsNotAMode() {
        #expect(errors(minimalYAML + "\nreplay:\n  mode: on\n") == [
            "gateway.yaml:11:9: replay.mode: invalid value 'on' (expected one of: single-use, off)",
        ])
    }

    @Test func adminNullOrFalseDisables() throws {
        #expect(try #require(parse(minimalYAML + "\nadmin:\n").config).admin == nil)
        #expect(try #require(parse(minimalYAML + "\nadmin: off\n").config).admin == nil)
    }

    @Test func durationsAndSizes() {
        let yaml = """
        apps: [{client_id: a, secrets: [{env: SECRET}]}]
        routes: [{path_prefix: /, upstream: app}]
        upstreams:
          - name: app
            servers: ["127.0.0.1:3000"]
            tls: {verify: true}
            max_idle_connections: 1
            connect_timeout: 10
            response_timeout: 1.5s
            idle_timeout: 0s
        limits:
          max_header_bytes: 16kb
          max_body_bytes: 0
          header_timeout: 5 s
        token:
          clock_skew: -1s
        """
        #expect(errors(yaml) == [
            "gateway.yaml:8:22: upstreams[0].connect_timeout: invalid duration '10' (expected digits and a unit: 250ms, 10s, 5m, 2h)",
            "gateway.yaml:9:23: upstreams[0].response_timeout: invalid duration '1.5s' (expected digits and a unit: 250ms, 10s, 5m, 2h)",
            "gateway.yaml:10:19: upstreams[0].idle_timeout: must be greater than zero",
            "gateway.yaml:12:21: limits.max_header_bytes: invalid size '16kb' (expected bytes or a unit: 512, 16KiB, 10MiB)",
            "gateway.yaml:13:19: limits.max_body_bytes: must be greater than zero",
            "gateway.yaml:14:19: limits.header_timeout: invalid duration '5 s' (expected digits and a unit: 250ms, 10s, 5m, 2h)",
            "gateway.yaml:16:15: token.clock_skew: invalid duration '-1s' (expected digits and a unit: 250ms, 10s, 5m, 2h)",
        ])
    }

    @Test func threeErrorsAreReportedAtOnce() {
        let yaml = """
        listeners:
          - address: localhost
        apps:
          - client_id: app-1
            secrets: [{env: MISSING}]
        upstreams:
          - name: app
            servers: ["127.0.0.1:3000"]
        routes:
          - path_prefix: api
            upstream: app
        """
        let report = parse(yaml)
        #expect(report.config == nil)
        #expect(report.errors.map(\.description) == [
            "gateway.yaml:2:14: listeners[0].address: invalid address 'localhost' (expected host:port, [v6]:port or 0.0.0.0:port, port 0-65535)",
            "gateway.yaml:5:21: apps[0].secrets[0].env: environment variable MISSING is not set or is empty",
            "gateway.yaml:10:18: routes[0].path_prefix: must start with '/', found 'api'",
        ])
        #expect(report.result.failureDescription?.split(separator: "\n").count == 3)
    }
}

extension Result where Failure == ConfigErrors {
    var failureDescription: String? {
        if case .failure(let errors) = self { return errors.description }
        return nil
    }
}

/// A repeated key that is not a scalar (`? - a`): Yams's mark for it depended on dictionary order, so two loads of the
/// same file gave different line:col (found by fuzz-config, Tests/Fuzz/config/corpus/crash-complex-duplicate-key-mark).
@Suite struct ComplexDuplicateKeyTests {
    @Test func everyLoadReportsTheSameIssue() {
        let yaml = "a:\n? - x\n: 1\n? - x\n: 2\n? - y\n: 3\n? - y\n: 4\n"
        let first = parse(yaml).issues
        #expect(first.count == 1)
        #expect(first.first?.line == 1 && first.first?.column == 1)
        for _ in 0..<20 { #expect(parse(yaml).issues == first) }
    }

    @Test func repeatedKeysWithTheSameTextGiveTheSameIssueEveryTime() {
        let yaml = "a: 1\n'': 1\n\"\": 2\n'': 3\n\"\": 4\n? - q\n: 5\n? - q\n: 6\n"
        let first = parse(yaml).issues
        for _ in 0..<20 { #expect(parse(yaml).issues == first) }
    }

    @Test func aRepeatedPlainKeyIsStillPointedAt() {
        let issues = parse("token:\n  clock_skew: 5s\n  clock_skew: 6s\n").issues
        #expect(issues.count == 1)
        #expect(issues.first?.line ?? 1 > 1)
    }
}
