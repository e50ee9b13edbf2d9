import GatewayConfig
import GatewayCore
import Testing

/// `listeners[].trusted_proxies`: parsed values, defaults, errors with line:col.
@Suite struct TrustedProxiesConfigTests {
    static let tail = """
    apps: [{client_id: app, secrets: [{env: SECRET}]}]
    upstreams: [{name: app, servers: ["127.0.0.1:1"]}]
    routes: [{path_prefix: /, upstream: app}]

    """

    @Test func parsesRangesWithDefaultEmpty() throws {
        let yaml = """
        listeners:
          - address: 127.0.0.1:0
            trusted_proxies: [10.0.0.0/8, 127.0.0.1, "::1/128", "2001:db8::/32"]
          - address: 127.0.0.1:1
        """ + "\n" + Self.tail
        let report = parse(yaml)
        #expect(report.issues.isEmpty, "\(report.issues)")
        let config = try #require(report.config)
        #expect(config.listeners[0].trustedProxies.ranges.map(\.description)
                == ["10.0.0.0/8", "127.0.0.1/32", "::1/128", "2001:db8::/32"])
        #expect(config.listeners[1].trustedProxies.isEmpty == true)
        #expect(config.summary().contains("(plain HTTP/1.1 + h2c, trusted_proxies 10.0.0.0/8"))
    }

    @Test func badEntriesAreReportedAtTheirPlace() {
        let yaml = """
        listeners:
          - address: 127.0.0.1:0
            trusted_proxies: [10.0.0.0/33, example.com, 10.1.2.3/8, ""]
          - address: 127.0.0.1:1
            trusted_proxies: 10.0.0.0/8
        """ + "\n" + Self.tail
        #expect(errors(yaml) == [
            "gateway.yaml:3:23: listeners[0].trusted_proxies[0]: invalid prefix length in '10.0.0.0/33' (0-32 for IPv4, 0-128 for IPv6)",
            "gateway.yaml:3:36: listeners[0].trusted_proxies[1]: invalid CIDR 'example.com' (expected an IPv4 or IPv6 address, optionally /prefix)",
            "gateway.yaml:3:49: listeners[0].trusted_proxies[2]: '10.1.2.3/8' has bits set past the prefix (the network is 10.0.0.0/8)",
            "gateway.yaml:3:61: listeners[0].trusted_proxies[3]: must not be empty",
            "gateway.yaml:5:22: listeners[1].trusted_proxies: expected a list, found '10.0.0.0/8'",
        ])
    }
}
