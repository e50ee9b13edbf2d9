import Foundation
import Testing
import TestSupport

/// `rediss://` end to end: the real binary, a TLS-only `redis-server` with the fixture's certificates and a password,
/// real HTTP clients. Each test makes its own certificates and server and kills them at the end.
@Suite("Replay store: redis over TLS, end to end", .serialized)
struct RedisTLSIntegrationTests {
    static let password = "Tls-Redis-Pw-5c81e2"

    /// The `replay:` section for a TLS Redis at `port`, password from `$REDIS_PASSWORD`; `tls` is the flow map's body.
    static func replayYAML(port: Int, tls: String) -> String {
        """
        replay:
          store: redis
          redis:
            url: "rediss://127.0.0.1:\(port)/0"
            password: {env: REDIS_PASSWORD}
            tls: {\(tls)}
            timeout: 2s
            on_unavailable: reject

        """
    }

    static func start(_ server: RedisTLSServer, tls: String) throws -> ServedGateway {
        try ServedGateway(replay: replayYAML(port: server.port, tls: tls), environment: ["REDIS_PASSWORD": password])
    }

    static func fullTLS(_ f: RedisTLSFixture, ca: String? = nil) -> String {
        "ca_file: \"\(ca ?? f.caCertPath)\", certificate_chain: \"\(f.clientCertPath)\", private_key: \"\(f.clientKeyPath)\""
    }

    /// First use 200 (forwarded), second use 401 token_replayed, and the key is in the TLS Redis.
    static func admitThenReplay(_ gw: ServedGateway, server: RedisTLSServer,
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let jti = UUID().uuidString
        let token = Tok.valid(jti: jti)
        let first = try #require(try gw.get("/api/x", token: token), sourceLocation: sourceLocation)
        #expect(first.status == 200, "first use: \(first.bodyText) \(gw.gateway.stderr)", sourceLocation: sourceLocation)
        #expect(first.echoedHeaders["x-shop-domain"] == "a.myshopify.com", sourceLocation: sourceLocation)
        expectAnswer(try gw.get("/api/x", token: token), status: 401, code: "token_replayed", sourceLocation: sourceLocation)
        let exists = server.cli(clientCert: true).run(["EXISTS", "sgw:jti:\(TestStack.clientId):\(jti)"])
        #expect(exists == "1", "key in the TLS redis: \(exists)", sourceLocation: sourceLocation)
    }

    /// Every authenticated request is refused by the store (fails closed), the public route still works, /readyz is
    /// 503 and each refusal counts as a connection error.
    static func expectFailsClosed(_ gw: ServedGateway, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for _ in 0..<3 {
            let r = try gw.get("/api/x", token: Tok.valid())
            expectAnswer(r, status: 503, code: "replay_store_unavailable", sourceLocation: sourceLocation)
        }
        #expect(try gw.get("/public/x")?.status == 200, sourceLocation: sourceLocation)
        #expect(try gw.readyz() == 503, sourceLocation: sourceLocation)
        let metrics = try gw.metrics()
        let connection = ServedGateway.sample(metrics, #"gateway_replay_store_errors_total{kind="connection"}"#) ?? 0
        #expect(connection >= 3, "connection errors: \(metrics)", sourceLocation: sourceLocation)
        #expect(ServedGateway.sample(metrics, "gateway_replay_unchecked_total") == 0, sourceLocation: sourceLocation)
    }

    /// The password shows up nowhere an operator or a scraper can read: the process's output (after a clean exit,
    /// so every line is out), `/metrics`, and `check`'s summary, which names only its source.
    static func expectPasswordNeverShown(_ gw: ServedGateway, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let metrics = try gw.metrics()
        let checked = try gw.check()
        #expect(checked.status == 0, "check: \(checked.stderr)", sourceLocation: sourceLocation)
        #expect(checked.stdout.contains("password env:REDIS_PASSWORD (redacted)"), "\(checked.stdout)",
                sourceLocation: sourceLocation)
        let (status, output) = gw.terminate()
        #expect(status == 0, "exit: \(output)", sourceLocation: sourceLocation)
        for text in [output, metrics, checked.stdout, checked.stderr] {
            #expect(!text.contains(password), sourceLocation: sourceLocation)
        }
    }

    @Test("rediss:// with a CA, a client certificate and a password from env: 200, then 401 token_replayed; ready")
    func clientCertificateAndPassword() throws {
        let fixture = try RedisTLSFixture()
        let server = try fixture.startServer(clientAuth: .yes, password: Self.password)
        defer { server.stop() }
        let gw = try Self.start(server, tls: Self.fullTLS(fixture))
        defer { gw.stop() }

        #expect(try gw.readyz() == 200, "\(gw.gateway.stderr)")
        try Self.admitThenReplay(gw, server: server)
        try Self.admitThenReplay(gw, server: server)
        let metrics = try gw.metrics()
        for kind in ["timeout", "connection", "reply"] {
            #expect(ServedGateway.sample(metrics, "gateway_replay_store_errors_total{kind=\"\(kind)\"}") == 0, "\(metrics)")
        }
        try Self.expectPasswordNeverShown(gw)
    }

    @Test("server_name: localhost verifies the certificate's DNS name while connecting to 127.0.0.1; another name fails closed")
    func serverNameIsWhatIsVerified() throws {
        let fixture = try RedisTLSFixture()
        let server = try fixture.startServer(clientAuth: .yes, password: Self.password)
        defer { server.stop() }
        let named = try Self.start(server, tls: Self.fullTLS(fixture) + ", server_name: localhost")
        defer { named.stop() }
        #expect(try named.readyz() == 200, "\(named.gateway.stderr)")
        try Self.admitThenReplay(named, server: server)

        // The certificate names 127.0.0.1 and localhost only: a name it does not carry must fail the handshake, which
        // shows server_name (not the URL's host) is what gets checked.
        let misnamed = try Self.start(server, tls: Self.fullTLS(fixture) + ", server_name: redis.example.invalid")
        defer { misnamed.stop() }
        try Self.expectFailsClosed(misnamed)
        try Self.expectPasswordNeverShown(named)
        try Self.expectPasswordNeverShown(misnamed)
    }

    @Test("a CA that did not sign the server's certificate: every authenticated request 503, /readyz 503, counted")
    func wrongCAFailsClosed() throws {
        let fixture = try RedisTLSFixture()
        let server = try fixture.startServer(clientAuth: .yes, password: Self.password)
        defer { server.stop() }
        let gw = try Self.start(server, tls: Self.fullTLS(fixture, ca: fixture.otherCACertPath))
        defer { gw.stop() }

        try Self.expectFailsClosed(gw)
        #expect(gw.gateway.waitForOutput("redis TLS handshake failed"), "\(gw.gateway.stderr)")
        // Nothing reached Redis.
        #expect(server.cli(clientCert: true).run(["DBSIZE"]) == "0")
        try Self.expectPasswordNeverShown(gw)
    }

    @Test("no client certificate against --tls-auth-clients yes: 503 replay_store_unavailable, /readyz 503")
    func missingClientCertificateFailsClosed() throws {
        let fixture = try RedisTLSFixture()
        let server = try fixture.startServer(clientAuth: .yes, password: Self.password)
        defer { server.stop() }
        let gw = try Self.start(server, tls: "ca_file: \"\(fixture.caCertPath)\"")
        defer { gw.stop() }

        try Self.expectFailsClosed(gw)
        #expect(server.cli(clientCert: true).run(["DBSIZE"]) == "0")
        try Self.expectPasswordNeverShown(gw)
    }

    @Test("the other CA's client certificate against --tls-auth-clients yes: 503, /readyz 503")
    func strangerClientCertificateFailsClosed() throws {
        let fixture = try RedisTLSFixture()
        let server = try fixture.startServer(clientAuth: .yes, password: Self.password)
        defer { server.stop() }
        let tls = "ca_file: \"\(fixture.caCertPath)\", certificate_chain: \"\(fixture.otherClientCertPath)\", "
            + "private_key: \"\(fixture.otherClientKeyPath)\""
        let gw = try Self.start(server, tls: tls)
        defer { gw.stop() }

        try Self.expectFailsClosed(gw)
        try Self.expectPasswordNeverShown(gw)
    }
}
