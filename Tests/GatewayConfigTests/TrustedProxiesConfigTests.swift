import GatewayConfig
import GatewayCore
import Testing

/// `listeners[].trusted_proxies` and `listeners[].proxy_protocol`: parsed values, defaults, errors with line:col.
@Suite struct TrustedProxiesConfigTests {
    static let tail = """
    apps: [{client_id: app, secrets: [{env: SECRET}]}]
    upstreams: [{name: app, servers: ["127.0.0.1:1"]}]
    routes: [{path_prefix: /, upstream: app}]

    """

    @Test func parsesRangesAndTheFlagWithDefaultsOff() throws {
        let yaml = """
        listeners:
          - address: 127.0.0.1:0
            trusted_proxies: [10.0.0.0/8, 127.0.0.1, "::1/128", "2001:db8::/32"]
            proxy_protocol: true
          - address: 127.0.0.1:1
        """ + "\n" + Self.tail
        let report = parse(yaml)
        #expect(report.issues.isEmpty, "\(report.issues)")
        let config = try #require(report.config)
        #expect(config.listeners[0].trustedProxies.ranges.map(\.description)
                == ["10.0.0.0/8", "127.0.0.1/32", "::1/128", "2001:db8::/32"])
        #expect(config.listeners[0].proxyProtocol == true)
        #expect(config.listeners[1].trustedProxies.isEmpty == true)
        #expect(config.listeners[1].proxyProtocol == false)
        #expect(config.summary().contains("proxy_protocol, trusted_proxies 10.0.0.0/8"))
    }

    @Test func badEntriesAreReportedAtTheirPlace() {
        let yaml = """
        listeners:
          - address: 127.0.0.1:0
            trusted_proxies: [10.0.0.0/33, example.com, 10.1.2.3/8, ""]
            proxy_protocol: yes-please
          - address: 127.0.0.1:1
            trusted_proxies: 10.0.0.0/8
        """ + "\n" + Self.tail
        #expect(errors(yaml) == [
            "gateway.yaml:3:23: listeners[0].trusted_proxies[0]: invalid prefix length in '10.0.0.0/33' (0-32 for IPv4, 0-128 for IPv6)",
            "gateway.yaml:3:36: listeners[0].trusted_proxies[1]: invalid CIDR 'example.com' (expected an IPv4 or IPv6 address, optionally /prefix)",
            "gateway.yaml:3:49: listeners[0].trusted_proxies[2]: '10.1.2.3/8' has bits set past the prefix (the network is 10.0.0.0/8)",
            "gateway.yaml:3:61: listeners[0].trusted_proxies[3]: must not be empty",
            "gateway.yaml:4:21: listeners[0].proxy_protocol: expected true or false, found 'yes-please'",
            "gateway.yaml:6:22: listeners[1].trusted_proxies: expected a list, found '10.0.0.0/8'",
        ])
    }
}
