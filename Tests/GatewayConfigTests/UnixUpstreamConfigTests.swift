import GatewayConfig
import Testing

/// `upstreams[].servers` entries `unix:PATH`.
@Suite struct UnixUpstreamConfigTests {
    private func yaml(_ server: String) -> String {
        minimalYAML.replacingOccurrences(of: "\"127.0.0.1:3000\"", with: "\"\(server)\"")
    }

    @Test func absolutePathIsKept() throws {
        let report = parse(yaml("unix:/run/app.sock"))
        #expect(report.errors.isEmpty)
        #expect(report.config?.upstreams.first?.servers == ["unix:/run/app.sock"])
    }

    @Test func relativePathResolvesAgainstTheConfigDirectory() throws {
        let report = parse(yaml("unix:run/app.sock"), base: "/etc/session-gateway")
        #expect(report.errors.isEmpty)
        #expect(report.config?.upstreams.first?.servers == ["unix:/etc/session-gateway/run/app.sock"])
    }

    @Test func mixesWithTCPServers() throws {
        let report = parse(minimalYAML.replacingOccurrences(of: "\"127.0.0.1:3000\"", with: "\"127.0.0.1:3000\", \"unix:/run/a.sock\""))
        #expect(report.config?.upstreams.first?.servers == ["127.0.0.1:3000", "unix:/run/a.sock"])
    }

    @Test func emptyPathIsAnError() {
        #expect(errors(yaml("unix:")) == ["gateway.yaml:6:15: upstreams[0].servers[0]: unix: needs a socket path (unix:/run/app.sock)"])
    }

    @Test func pathLongerThanSunPathIsAnError() {
        let fits = "/" + String(repeating: "a", count: 106)
        #expect(errors(yaml("unix:\(fits)")).isEmpty, "107 bytes fit")
        let long = fits + "b"
        #expect(errors(yaml("unix:\(long)")) == [
            "gateway.yaml:6:15: upstreams[0].servers[0]: unix socket path '\(long)' is 108 bytes; at most 107 fit in sun_path",
        ])
    }

    @Test func relativePathCountsAfterResolution() {
        let base = "/" + String(repeating: "d", count: 100)
        let found = errors(yaml("unix:app.sock"), base: base)
        #expect(found == [
            "gateway.yaml:6:15: upstreams[0].servers[0]: unix socket path '\(base)/app.sock' is 110 bytes; at most 107 fit in sun_path",
        ])
    }
}

/// `upstreams[].resolve_interval`.
@Suite struct ResolveIntervalConfigTests {
    @Test func defaultsToThirtySeconds() throws {
        let config = try #require(parse(minimalYAML).config)
        #expect(config.upstreams.first?.resolveInterval == .seconds(30))
    }

    @Test func takesADuration() throws {
        let yaml = minimalYAML.replacingOccurrences(of: "    servers: [\"127.0.0.1:3000\"]",
                                                    with: "    servers: [\"app.internal:3000\"]\n    resolve_interval: 5s")
        let config = try #require(parse(yaml).config)
        #expect(config.upstreams.first?.resolveInterval == .seconds(5))
        #expect(config.upstreams.first?.servers == ["app.internal:3000"])
    }

    @Test func zeroIsAnError() {
        let yaml = minimalYAML.replacingOccurrences(of: "    servers: [\"127.0.0.1:3000\"]",
                                                    with: "    servers: [\"127.0.0.1:3000\"]\n    resolve_interval: 0s")
        let found = errors(yaml)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("gateway.yaml:7:23: upstreams[0].resolve_interval:") == true)
    }
}
