import Foundation
import GatewayConfig
import GatewayProxy
import Testing

/// Keep-alive pool keys: plain and TLS upstreams on the same `host:port` (or TLS with another server name, CA or
/// verify setting) never get each other's idle connections.
@Suite(.serialized)
struct UpstreamPoolKeyTests {
    /// An echo backend on a TLS listener (the fixture's `localhost` certificate).
    private static func tlsEcho(_ fx: TLSFixture) throws -> GatewayServer {
        var c = GatewayConfig()
        c.listeners = [ListenerConfig(address: "127.0.0.1:0", tls: ListenerTLSConfig(certificates: [
            CertificateConfig(certificateChain: fx.cert, privateKey: fx.key),
        ]))]
        c.admin = nil
        let server = try GatewayServer(config: c, kind: .echo, loopCount: 1)
        try server.start()
        return server
    }

    /// Two upstreams on one server, `/first` and `/second` routed to them; both requests go over one client
    /// connection on a one-loop gateway, so the second exchange sees the idle connection the first one parked.
    /// `probe` runs after the second response, while the gateway still holds its upstream connections.
    private static func statuses(server: String, first: UpstreamTLSConfig?, second: UpstreamTLSConfig?,
                                 probe: () -> Void = {}) throws -> [Int] {
        let stack = try TestStack(loops: 1) { c in
            var a = UpstreamConfig(name: "first", servers: [server])
            a.tls = first
            var b = UpstreamConfig(name: "second", servers: [server])
            b.tls = second
            c.upstreams = [a, b]
            c.routes = [RouteConfig(pathPrefix: "/first", upstream: "first", auth: .none),
                        RouteConfig(pathPrefix: "/second", upstream: "second", auth: .none)]
        }
        defer { stack.stop() }
        let client = try RawClient(port: stack.port)
        var out: [Int] = []
        for path in ["/first/a", "/second/b"] {
            client.send("GET \(path) HTTP/1.1\r\nHost: gw.test\r\n\r\n")
            out.append(client.readResponse()?.status ?? 0)
        }
        probe()
        return out
    }

    @Test func aTLSUpstreamNeverGetsAPlainIdleConnection() throws {
        let echo = try TestStack()
        defer { echo.stop() }
        let server = "127.0.0.1:\(echo.echoPort)"
        // The server speaks plain HTTP only: the TLS upstream's handshake fails, unless it was handed the plain socket.
        let got = try Self.statuses(server: server, first: nil, second: UpstreamTLSConfig(verify: false))
        #expect(got == [200, 502])
    }

    @Test func aPlainUpstreamNeverGetsATLSIdleConnection() throws {
        let fx = try TLSFixture()
        let tls = try Self.tlsEcho(fx)
        defer { tls.drain(timeout: .milliseconds(100)) {} }
        let server = "127.0.0.1:\(tls.listenerAddresses[0].port)"
        let got = try Self.statuses(server: server, first: UpstreamTLSConfig(serverName: "localhost", caFile: fx.cert), second: nil)
        #expect(got == [200, 502])
    }

    @Test func tlsConnectionsAreKeptApartByServerNameAndVerification() throws {
        let fx = try TLSFixture()
        let tls = try Self.tlsEcho(fx)
        defer { tls.drain(timeout: .milliseconds(100)) {} }
        let server = "127.0.0.1:\(tls.listenerAddresses[0].port)"
        let good = UpstreamTLSConfig(serverName: "localhost", caFile: fx.cert)
        // A connection verified for `localhost` does not serve an upstream that expects another name...
        #expect(try Self.statuses(server: server, first: good, second: UpstreamTLSConfig(serverName: "wrong.example", caFile: fx.cert))
                == [200, 502])
        // ...and an unverified one does not serve an upstream that verifies against another CA.
        #expect(try Self.statuses(server: server, first: UpstreamTLSConfig(serverName: "localhost", verify: false),
                                  second: UpstreamTLSConfig(serverName: "localhost", caFile: fx.otherCert))
                == [200, 502])
    }

    @Test func identicalTLSSettingsShareTheIdleConnection() throws {
        let fx = try TLSFixture()
        let tls = try Self.tlsEcho(fx)
        defer { tls.drain(timeout: .milliseconds(100)) {} }
        let server = "127.0.0.1:\(tls.listenerAddresses[0].port)"
        let good = UpstreamTLSConfig(serverName: "localhost", caFile: fx.cert)
        var upstreamConnections = -1
        #expect(try Self.statuses(server: server, first: good, second: good) { upstreamConnections = tls.connectionCount }
                == [200, 200])
        #expect(upstreamConnections == 1, "the second exchange reuses the first one's idle connection")
    }
}
