import Foundation
import GatewayConfig
import GatewayCore
import Testing

/// One error class per test, each asserting the printed `FILE:LINE:COL: key.path: message`.
@Suite struct ConfigValidationTests {
    @Test func unknownKeysAtEveryLevel() {
        let yaml = """
        apps:
          - client_id: a
            secrets: [{env: SECRET, nmae: x}]
            shop: []
        upstreams:
          - name: app
            servers: ["127.0.0.1:3000"]
            tls: {sni: x}
        routes:
          - path_prefix: /
            upstream: app
        replay:
          redis: {url: "redis://127.0.0.1:6379", pasword: x}
        listeners:
          - address: 127.0.0.1:0
            tls: {certificate: x}
        colors: true
        """
        let found = errors(yaml)
        #expect(found.contains("gateway.yaml:3:29: apps[0].secrets[0].nmae: unknown key 'nmae' (expected one of: env, file, value)"))
        #expect(found.contains("gateway.yaml:4:5: apps[0].shop: unknown key 'shop' (expected one of: client_id, secrets, shops)"))
        #expect(found.contains("gateway.yaml:8:11: upstreams[0].tls.sni: unknown key 'sni' (expected one of: server_name, ca_file, verify)"))
        #expect(found.contains("gateway.yaml:13:42: replay.redis.pasword: unknown key 'pasword' (expected one of: url, username, password, tls, key_prefix, timeout, on_unavailable)"))
        #expect(found.contains("gateway.yaml:16:11: listeners[0].tls.certificate: unknown key 'certificate' (expected one of: certificate_chain, private_key, certificates)"))
        #expect(found.contains { $0.hasPrefix("gateway.yaml:17:1: colors: unknown key 'colors'") })
    }

    @Test func wrongTypes() {
        let yaml = """
        apps:
          - client_id: a
            secrets: {env: SECRET}
        upstreams:
          - name: app
            servers: 127.0.0.1:3000
        routes:
          - path_prefix: /
            upstream: app
            require_customer: "yes"
        cors: {enabled: 1, allow_origins: "*"}
        identity_headers: {shop_domain: true}
        replay: {max_entries: many}
        """
        #expect(errors(yaml) == [
            "gateway.yaml:3:14: apps[0].secrets: expected a list, found a mapping",
            "gateway.yaml:6:14: upstreams[0].servers: expected a list, found '127.0.0.1:3000'",
            "gateway.yaml:10:23: routes[0].require_customer: expected true or false, found 'yes'",
            "gateway.yaml:11:17: cors.enabled: expected true or false, found the number 1",
            "gateway.yaml:11:35: cors.allow_origins: expected a list, found '*'",
            "gateway.yaml:12:33: identity_headers.shop_domain: expected a string, found the boolean true (quote it if it is meant as text)",
            "gateway.yaml:13:23: replay.max_entries: expected an integer, found 'many'",
        ])
    }

    @Test func badEnums() {
        let yaml = minimalYAML + """

            auth: sometimes
        replay: {store: disk, redis: {on_unavailable: ignore}}
        identity_headers: {customer_id_format: uuid}
        logging: {level: verbose, format: xml}
        """
        #expect(errors(yaml) == [
            "gateway.yaml:10:11: routes[0].auth: invalid value 'sometimes' (expected one of: required, optional, none)",
            "gateway.yaml:11:17: replay.store: invalid value 'disk' (expected one of: memory, redis)",
            "gateway.yaml:11:47: replay.redis.on_unavailable: invalid value 'ignore' (expected one of: reject, allow)",
            "gateway.yaml:12:40: identity_headers.customer_id_format: invalid value 'uuid' (expected one of: gid, numeric)",
            "gateway.yaml:13:18: logging.level: invalid value 'verbose' (expected one of: trace, debug, info, warning, error)",
            "gateway.yaml:13:35: logging.format: invalid value 'xml' (expected one of: json, text)",
        ])
    }

    @Test func addresses() {
        let yaml = minimalYAML + """

        listeners:
          - address: 127.0.0.1:8080
          - address: "[::1]:443"
          - address: 0.0.0.0:0
          - address: ::1:80
          - address: "host:65536"
          - address: "[fe80::zz]:80"
          - address: 127.0.0.1:8080
        admin: {address: "127.0.0.1"}
        """
        let report = parse(yaml)
        #expect(report.errors.map(\.description) == [
            "gateway.yaml:14:14: listeners[3].address: invalid address '::1:80' (expected host:port, [v6]:port or 0.0.0.0:port, port 0-65535)",
            "gateway.yaml:15:14: listeners[4].address: invalid address 'host:65536' (expected host:port, [v6]:port or 0.0.0.0:port, port 0-65535)",
            "gateway.yaml:16:14: listeners[5].address: invalid address '[fe80::zz]:80' (expected host:port, [v6]:port or 0.0.0.0:port, port 0-65535)",
            "gateway.yaml:17:14: listeners[6].address: duplicate listener address 127.0.0.1:8080 (also listeners[0])",
            "gateway.yaml:18:18: admin.address: invalid address '127.0.0.1' (expected host:port, [v6]:port or 0.0.0.0:port, port 0-65535)",
        ])
        #expect(HostPort.parse("[::1]:8080") == HostPort(host: "::1", port: 8080))
        #expect(HostPort.parse("[::ffff:127.0.0.1]:1")?.isIPv6 == true)
        #expect(HostPort.parse("backend_1:3000") == HostPort(host: "backend_1", port: 3000))
        #expect(HostPort.parse("a..b:1") == nil)
        #expect(HostPort.parse("a:") == nil)
    }

    @Test func upstreamPortZeroIsAnError() {
        let yaml = minimalYAML.replacingOccurrences(of: "127.0.0.1:3000", with: "127.0.0.1:0")
        #expect(errors(yaml) == ["gateway.yaml:6:15: upstreams[0].servers[0]: port 0 is not allowed here"])
    }

    @Test func routesNamingAMissingUpstream() {
        let yaml = minimalYAML + "\n  - path_prefix: /b\n    upstream: nope\n"
        #expect(errors(yaml) == ["gateway.yaml:11:15: routes[1].upstream: unknown upstream 'nope' (known: app)"])
    }

    @Test func upstreamsWithoutServersAndDuplicateNames() {
        let yaml = minimalYAML + """

        upstreams:
          - name: app
            servers: []
          - name: app
            servers: ["127.0.0.1:1"]
          - name: other
        """
        let found = errors(yaml)
        // The second `upstreams` key is a YAML-level duplicate: reported alone, as a syntax issue.
        #expect(found.count == 1)
        #expect(found.first?.contains("(syntax): duplicate key 'upstreams'") == true)
        let fixed = """
        apps: [{client_id: a, secrets: [{env: SECRET}]}]
        routes: [{path_prefix: /, upstream: app}]
        upstreams:
          - name: app
            servers: []
          - name: app
            servers: ["127.0.0.1:1"]
          - name: other
        """
        #expect(errors(fixed) == [
            "gateway.yaml:5:14: upstreams[0].servers: needs at least one server",
            "gateway.yaml:6:11: upstreams[1].name: duplicate upstream name 'app' (also upstreams[0])",
            "gateway.yaml:8:5: upstreams[2].servers: missing required key 'servers'",
        ])
    }

    @Test func duplicateClientIdsAndAppsWithoutSecrets() {
        let yaml = """
        apps:
          - client_id: a
            secrets: [{env: SECRET}]
          - client_id: a
            secrets: [{env: SECRET}]
          - client_id: b
            secrets: []
          - client_id: c
        upstreams: [{name: app, servers: ["127.0.0.1:1"]}]
        routes: [{path_prefix: /, upstream: app}]
        """
        #expect(errors(yaml) == [
            "gateway.yaml:4:16: apps[1].client_id: duplicate client_id 'a' (also apps[0])",
            "gateway.yaml:7:14: apps[2].secrets: needs at least one secret",
            "gateway.yaml:8:5: apps[3].secrets: missing required key 'secrets'",
        ])
    }

    @Test func authenticatedRoutesNeedApps() {
        let yaml = """
        upstreams: [{name: app, servers: ["127.0.0.1:1"]}]
        routes:
          - {path_prefix: /healthz, auth: none, upstream: app}
          - {path_prefix: /a, auth: optional, upstream: app}
          - {path_prefix: /, upstream: app}
        """
        #expect(errors(yaml) == ["gateway.yaml:4:29: routes[1].auth: auth optional needs at least one app under apps"])
        let onlyNone = "upstreams: [{name: app, servers: [\"127.0.0.1:1\"]}]\nroutes: [{path_prefix: /, auth: none, upstream: app}]\n"
        #expect(parse(onlyNone).isValid)
    }

    @Test func secretSources() throws {
        let dir = try temporaryDirectory()
        try Data("file-secret\r\n\n".utf8).write(to: URL(fileURLWithPath: dir + "/secret.txt"))
        try Data("\n".utf8).write(to: URL(fileURLWithPath: dir + "/empty.txt"))
        let yaml = """
        apps:
          - client_id: a
            secrets:
              - file: secret.txt
              - env: EMPTY
              - env: UNSET
              - file: missing.txt
              - file: empty.txt
              - {}
              - {env: SECRET, value: x}
              - value: ""
        upstreams: [{name: app, servers: ["127.0.0.1:1"]}]
        routes: [{path_prefix: /, upstream: app}]
        """
        #expect(errors(yaml, base: dir) == [
            "gateway.yaml:5:14: apps[0].secrets[1].env: environment variable EMPTY is not set or is empty",
            "gateway.yaml:6:14: apps[0].secrets[2].env: environment variable UNSET is not set or is empty",
            "gateway.yaml:7:15: apps[0].secrets[3].file: secret file '\(dir)/missing.txt' does not exist",
            "gateway.yaml:8:15: apps[0].secrets[4].file: secret file '\(dir)/empty.txt' is empty",
            "gateway.yaml:9:9: apps[0].secrets[5]: a secret needs exactly one of env, file or value (found none)",
            "gateway.yaml:10:9: apps[0].secrets[6]: a secret needs exactly one of env, file or value (found env and value)",
            "gateway.yaml:11:16: apps[0].secrets[7].value: must not be empty",
        ])
        let good = "apps: [{client_id: a, secrets: [{file: secret.txt}]}]\nroutes: []\n"
        let config = try #require(parse(good, base: dir).config)
        #expect(config.apps.first?.secrets.first?.bytes == Array("file-secret".utf8))
        #expect(config.apps.first?.secrets.first?.source == .file("secret.txt"))
    }

    @Test func routeShapes() {
        let yaml = """
        apps: [{client_id: a, secrets: [{env: SECRET}]}]
        upstreams: [{name: app, servers: ["127.0.0.1:1"]}]
        routes:
          - {path_prefix: "/a b", upstream: app}
          - {path_prefix: /m, methods: ["GET", "BAD METHOD", "P(ST"], upstream: app}
          - {path_prefix: /e, methods: [], upstream: app}
          - {upstream: app}
        """
        #expect(errors(yaml) == [
            "gateway.yaml:4:19: routes[0].path_prefix: must not contain spaces, control characters, '?' or '#'",
            "gateway.yaml:5:40: routes[1].methods[1]: 'BAD METHOD' is not a valid HTTP method name",
            "gateway.yaml:5:54: routes[1].methods[2]: 'P(ST' is not a valid HTTP method name",
            "gateway.yaml:6:32: routes[2].methods: needs at least one method (omit methods to allow every method)",
            "gateway.yaml:7:5: routes[3].path_prefix: missing required key 'path_prefix'",
        ])
    }

    @Test func limitsAndCounts() {
        let yaml = minimalYAML + """

        replay: {max_entries: 0}
        limits: {max_connections: -5, keepalive_timeout: 0ms}
        upstreams2: x
        """
        #expect(errors(yaml).prefix(3) == [
            "gateway.yaml:10:23: replay.max_entries: must be at least 1, found 0",
            "gateway.yaml:11:27: limits.max_connections: must be at least 1, found -5",
            "gateway.yaml:11:50: limits.keepalive_timeout: must be greater than zero",
        ])
    }

    /// `shutdown.readiness_grace`: 0s by default, any duration >= 0, shown by `check`.
    @Test func readinessGrace() throws {
        let defaults = try #require(parse(minimalYAML).config)
        #expect(defaults.shutdown.readinessGrace == .seconds(0))
        #expect(defaults.summary().contains("shutdown: readiness_grace 0s, drain_timeout 20s"))
        let set = try #require(parse(minimalYAML + "\nshutdown: {readiness_grace: 5s, drain_timeout: 0s}\n").config)
        #expect(set.shutdown.readinessGrace == .seconds(5))
        #expect(set.shutdown.drainTimeout == .seconds(0))
        #expect(set.summary().contains("shutdown: readiness_grace 5s, drain_timeout 0s"))
        #expect(errors(minimalYAML + "\nshutdown: {readiness_grace: 5}\n") == [
            "gateway.yaml:10:29: shutdown.readiness_grace: invalid duration '5' (expected digits and a unit: 250ms, 10s, 5m, 2h)",
        ])
        #expect(errors(minimalYAML + "\nshutdown: {readiness_grace: -1s}\n").first?.contains("shutdown.readiness_grace: invalid duration") == true)
    }

    @Test func upstreamConnectionBoundsAndTunnelTimeout() {
        let zero = minimalYAML.replacingOccurrences(of: "    servers:", with: "    max_connections: 0\n    queue_timeout: 0s\n    servers:")
            + "\nlimits: {tunnel_idle_timeout: 0ms}\n"
        #expect(errors(zero) == [
            "gateway.yaml:6:22: upstreams[0].max_connections: must be at least 1, found 0",
            "gateway.yaml:7:20: upstreams[0].queue_timeout: must be greater than zero",
            "gateway.yaml:12:31: limits.tunnel_idle_timeout: must be greater than zero",
        ])
        let wrong = minimalYAML.replacingOccurrences(of: "    servers:", with: "    max_connections: many\n    queue_timeout: 2\n    servers:")
            + "\nlimits: {tunnel_idle_timeout: 1.5s}\n"
        #expect(errors(wrong) == [
            "gateway.yaml:6:22: upstreams[0].max_connections: expected an integer, found 'many'",
            "gateway.yaml:7:20: upstreams[0].queue_timeout: invalid duration '2' (expected digits and a unit: 250ms, 10s, 5m, 2h)",
            "gateway.yaml:12:31: limits.tunnel_idle_timeout: invalid duration '1.5s' (expected digits and a unit: 250ms, 10s, 5m, 2h)",
        ])
        let negative = minimalYAML.replacingOccurrences(of: "    servers:", with: "    max_connections: -1\n    servers:")
        #expect(errors(negative) == ["gateway.yaml:6:22: upstreams[0].max_connections: must be at least 1, found -1"])
        let misspelt = minimalYAML.replacingOccurrences(of: "    servers:", with: "    max_conns: 5\n    servers:")
        #expect(errors(misspelt) == [
            "gateway.yaml:6:5: upstreams[0].max_conns: unknown key 'max_conns' (expected one of: name, servers, tls, "
                + "connect_timeout, response_timeout, idle_timeout, max_idle_connections, max_connections, queue_timeout, resolve_interval)",
        ])
    }

    /// Matching skips `;` parameters, so a prefix holding one could never mean what it says.
    @Test func pathPrefixWithSemicolonIsAnError() {
        let yaml = minimalYAML + "\n  - path_prefix: /admin;x\n    upstream: app\n"
        #expect(errors(yaml) == [
            "gateway.yaml:10:18: routes[1].path_prefix: must not contain ';' (route matching skips ';' path parameters), found '/admin;x'",
        ])
    }

    @Test func emptyListenersIsAnError() {
        #expect(errors(minimalYAML + "\nlisteners: []\n") == ["gateway.yaml:10:12: listeners: needs at least one listener"])
    }

    @Test func listenerTLS() throws {
        let dir = try temporaryDirectory()
        for name in ["a.pem", "a.key", "b.pem", "b.key"] {
            try Data("PEM".utf8).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        let good = minimalYAML + """

        listeners:
          - address: 127.0.0.1:0
            tls: {certificate_chain: a.pem, private_key: a.key}
          - address: 127.0.0.1:1
            tls:
              certificates:
                - {certificate_chain: a.pem, private_key: a.key}
                - {certificate_chain: \(dir)/b.pem, private_key: b.key}
        """
        let report = parse(good, base: dir)
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect(report.config?.listeners.first?.tls?.certificates == [CertificateConfig(certificateChain: dir + "/a.pem", privateKey: dir + "/a.key")])
        #expect(report.config?.listeners.last?.tls?.certificates.count == 2)

        let bad = minimalYAML + """

        listeners:
          - address: 127.0.0.1:0
            tls: {certificate_chain: a.pem, private_key: nope.key}
          - address: 127.0.0.1:1
            tls: {certificate_chain: a.pem, private_key: a.key, certificates: []}
          - address: 127.0.0.1:2
            tls: {}
          - address: 127.0.0.1:3
            tls: {certificates: []}
        """
        #expect(errors(bad, base: dir) == [
            "gateway.yaml:12:50: listeners[0].tls.private_key: private key file '\(dir)/nope.key' does not exist",
            "gateway.yaml:14:10: listeners[1].tls: use either certificate_chain + private_key or certificates: [...], not both",
            "gateway.yaml:16:10: listeners[2].tls: needs certificate_chain and private_key (or certificates: [...] for SNI)",
            "gateway.yaml:18:25: listeners[3].tls.certificates: needs at least one certificate",
        ])
    }

    @Test func upstreamTLS() throws {
        let dir = try temporaryDirectory()
        try Data("PEM".utf8).write(to: URL(fileURLWithPath: dir + "/ca.pem"))
        let good = minimalYAML.replacingOccurrences(of: "    servers:", with: "    tls: {server_name: api.local, ca_file: ca.pem}\n    servers:")
        let config = parse(good, base: dir).config
        #expect(config?.upstreams.first?.tls == UpstreamTLSConfig(serverName: "api.local", caFile: dir + "/ca.pem", verify: true))
        let bad = minimalYAML.replacingOccurrences(of: "    servers:", with: "    tls: {ca_file: no.pem, verify: maybe}\n    servers:")
        #expect(errors(bad, base: dir) == [
            "gateway.yaml:6:20: upstreams[0].tls.ca_file: CA file '\(dir)/no.pem' does not exist",
            "gateway.yaml:6:36: upstreams[0].tls.verify: expected true or false, found 'maybe'",
        ])
    }

    @Test func yamlSyntaxErrorCarriesItsPosition() throws {
        let report = parse("apps:\n  - client_id: a\n   bad: [\n")
        let issue = try #require(report.issues.first)
        #expect(report.issues.count == 1 && report.config == nil)
        #expect(issue.keyPath == "(syntax)")
        #expect(issue.line >= 2)
        #expect(issue.description.hasPrefix("gateway.yaml:\(issue.line):\(issue.column): (syntax): "))
    }

    @Test func emptyAndNonMappingDocuments() {
        #expect(errors("") == ["gateway.yaml:1:1: (root): the configuration is empty (see the example gateway.yaml)"])
        #expect(errors("- a\n").first?.hasPrefix("gateway.yaml:1:1: (root): the document must be a mapping") == true)
    }

    @Test func warningsAreKeptApartAndPrinted() {
        let yaml = minimalYAML + """

          - {path_prefix: /x, auth: none, require_customer: true, upstream: app}
        upstreams2: 1
        """
        let report = parse(yaml.replacingOccurrences(of: "upstreams2: 1", with: ""))
        #expect(report.isValid)
        #expect(report.warnings.map(\.description) == [
            "gateway.yaml:10:29: routes[1].require_customer: warning: has no effect with auth none",
        ])
    }
}
