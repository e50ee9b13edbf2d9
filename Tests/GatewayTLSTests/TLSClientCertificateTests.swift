import Testing
@testable import GatewayTLS

/// `TLSContext.client(caFile:verify:alpn:certificate:)`, the Redis store's context: a client certificate for servers
/// that demand one, and the server's certificate checked against an IP address as well as a name.
@Suite struct TLSClientCertificateTests {
    let fixture: CertificateFixture

    init() throws {
        fixture = try CertificateFixture.get()
    }

    /// A handshake against a server that demands a client certificate from the fixture CA.
    private func connect(certificate: CertificatePaths?, serverName: String?) throws -> (TLSPair, client: TLSResult, server: TLSResult) {
        let server = try TLSContext.makeServer(certificates: [fixture.localhost], alpn: ["h2", "http/1.1"],
                                               clientCAFile: fixture.caCertificate)
        let client = try TLSContext.client(caFile: fixture.caCertificate, verify: true, certificate: certificate)
        let pair = try TLSPair(server: server, client: client, serverName: serverName)
        let (clientResult, serverResult) = pair.handshake()
        return (pair, clientResult, serverResult)
    }

    @Test func theClientCertificateIsShownAndAccepted() throws {
        let (pair, client, server) = try connect(certificate: fixture.client, serverName: "localhost")
        #expect(client == .complete && server == .complete)
        #expect(pair.server.clientCertificateSubject == "CN=sgw-client")
        #expect(pair.client.peerCertificateSubject == "CN=localhost")
        #expect(pair.client.negotiatedALPN == nil)  // Redis speaks no ALPN: none is offered by default
        let (received, _, failure) = pair.send(Array("PING\r\n".utf8), from: pair.client, to: pair.server)
        #expect(failure == nil)
        #expect(received == Array("PING\r\n".utf8))
    }

    @Test func withoutACertificateTheServerRefuses() throws {
        let (pair, _, server) = try connect(certificate: nil, serverName: "localhost")
        let reason = server.error?.reason ?? ""
        #expect(reason.contains("certificate"), "\(reason)")
        #expect(pair.server.clientCertificateSubject == nil)
        // The old entry point shows no certificate either.
        let plain = try TLSContext.client(caFile: fixture.caCertificate, verify: true)
        let server2 = try TLSContext.makeServer(certificates: [fixture.localhost], alpn: ["http/1.1"], clientCAFile: fixture.caCertificate)
        let pair2 = try TLSPair(server: server2, client: plain, serverName: "localhost")
        #expect(pair2.handshake().server.error != nil)
    }

    @Test func aServerCertificateAsAClientCertificateIsRefused() throws {
        // The localhost leaf says serverAuth only: a server checking for clientAuth must refuse it.
        let (_, _, server) = try connect(certificate: fixture.localhost, serverName: "localhost")
        #expect(server.error != nil)
    }

    /// Cluster and Sentinel hand out IP addresses: `server_name: 127.0.0.1` checks the certificate's IP entries, sends
    /// no SNI, and refuses another address.
    @Test func ipAddressServerNamesAreCheckedAsAddresses() throws {
        let v4 = try connect(certificate: fixture.client, serverName: "127.0.0.1")
        #expect(v4.client == .complete && v4.server == .complete)
        #expect(v4.0.server.serverNameIndication == nil)
        let v6 = try connect(certificate: fixture.client, serverName: "::1")
        #expect(v6.client == .complete && v6.server == .complete)
        #expect(v6.0.server.serverNameIndication == nil)
        for wrong in ["127.0.0.2", "::2", "10.0.0.1"] {
            let refused = try connect(certificate: fixture.client, serverName: wrong)
            let reason = refused.client.error?.reason ?? ""
            #expect(reason.contains("IP address mismatch"), "\(wrong): \(reason)")
        }
        // A name is still checked as a name.
        let name = try connect(certificate: fixture.client, serverName: "api.example.test")
        #expect(name.client == .complete)
        #expect(name.0.server.serverNameIndication == "api.example.test")
    }

    @Test func certificateErrorsAreTypedAndNameTheFile() throws {
        let missing = CertificatePaths(certificateChain: fixture.directory + "/missing.crt", privateKey: fixture.client.privateKey)
        do {
            _ = try TLSContext.client(caFile: nil, verify: true, certificate: missing)
            Issue.record("a missing client certificate was accepted")
        } catch {
            #expect(error.reason.contains("certificate_chain") && error.reason.contains("missing.crt"), "\(error.reason)")
        }
        let mismatched = CertificatePaths(certificateChain: fixture.client.certificateChain, privateKey: fixture.otherTest.privateKey)
        do {
            _ = try TLSContext.client(caFile: nil, verify: true, certificate: mismatched)
            Issue.record("a key that does not match the certificate was accepted")
        } catch {
            #expect(error.reason.contains("private_key"), "\(error.reason)")
        }
        // No CA file: OpenSSL's default paths, as for upstreams.
        #expect(throws: Never.self) { try TLSContext.client(caFile: nil, verify: true, certificate: fixture.client) }
        #expect(throws: Never.self) { try TLSContext.client(caFile: nil, verify: true, certificate: nil) }
    }
}
