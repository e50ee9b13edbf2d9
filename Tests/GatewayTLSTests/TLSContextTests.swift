import Testing
@testable import GatewayTLS

@Suite struct TLSContextTests {
    let fixture: CertificateFixture

    init() throws {
        fixture = try CertificateFixture.get()
    }

    private func connect(certificates: [CertificatePaths]? = nil, caFile: String?, verify: Bool = true, serverName: String?) throws -> (TLSPair, client: TLSResult, server: TLSResult) {
        let server = try TLSContext.server(certificates: certificates ?? [fixture.localhost])
        let client = try TLSContext.client(caFile: caFile, verify: verify)
        let pair = try TLSPair(server: server, client: client, serverName: serverName)
        let (clientResult, serverResult) = pair.handshake()
        return (pair, clientResult, serverResult)
    }

    @Test func verificationWithTheRightCASucceeds() throws {
        let (pair, client, server) = try connect(caFile: fixture.caCertificate, serverName: "localhost")
        #expect(client == .complete && server == .complete)
        #expect(pair.client.negotiatedALPN == "http/1.1")
        #expect(pair.client.serverNameIndication == "localhost")
    }

    @Test func verificationWithAWrongCAFails() throws {
        let (_, client, server) = try connect(caFile: fixture.otherCACertificate, serverName: "localhost")
        let reason = client.error?.reason ?? ""
        #expect(reason.contains("verif"), "\(reason)")
        #expect(server.error != nil)  // the client's alert reaches the server
    }

    @Test func hostnameMismatchFails() throws {
        let (_, client, _) = try connect(caFile: fixture.caCertificate, serverName: "wrong.test")
        let reason = client.error?.reason ?? ""
        #expect(reason.contains("hostname mismatch"), "\(reason)")
    }

    @Test func wildcardAndIPAddressNamesVerify() throws {
        let wildcard = try connect(caFile: fixture.caCertificate, serverName: "api.example.test")
        #expect(wildcard.client == .complete)
        let deeper = try connect(caFile: fixture.caCertificate, serverName: "a.b.example.test")
        #expect(deeper.client.error != nil)  // a wildcard covers one label only
        let ip = try connect(caFile: fixture.caCertificate, serverName: "127.0.0.1")
        #expect(ip.client == .complete)
        #expect(ip.0.server.serverNameIndication == nil)  // no SNI for an IP address
        let wrongIP = try connect(caFile: fixture.caCertificate, serverName: "127.0.0.2")
        #expect(wrongIP.client.error != nil)
    }

    @Test func verifyOffAcceptsAnUnknownCA() throws {
        let (_, client, server) = try connect(caFile: fixture.otherCACertificate, verify: false, serverName: "wrong.test")
        #expect(client == .complete && server == .complete)
    }

    @Test func sniPicksTheMatchingCertificate() throws {
        let both = [fixture.localhost, fixture.otherTest]
        let other = try connect(certificates: both, caFile: fixture.caCertificate, serverName: "other.test")
        #expect(other.client == .complete)
        #expect(other.0.client.peerCertificateSubject == "CN=other.test")
        #expect(other.0.server.peerCertificateSubject == "CN=other.test")
        #expect(other.0.server.serverNameIndication == "other.test")
        #expect(other.0.server.negotiatedALPN == "http/1.1")  // ALPN still answered after the switch

        let unknown = try connect(certificates: both, caFile: fixture.caCertificate, verify: false, serverName: "unknown.test")
        #expect(unknown.client == .complete)
        #expect(unknown.0.client.peerCertificateSubject == "CN=localhost")

        let noSNI = try connect(certificates: both, caFile: fixture.caCertificate, serverName: nil)
        #expect(noSNI.0.client.peerCertificateSubject == "CN=localhost")
    }

    @Test func sniSwitchesAwayFromTheDefaultCertificate() throws {
        let otherFirst = [fixture.otherTest, fixture.localhost]
        let wildcard = try connect(certificates: otherFirst, caFile: fixture.caCertificate, serverName: "shop.example.test")
        #expect(wildcard.client == .complete)
        #expect(wildcard.0.client.peerCertificateSubject == "CN=localhost")
        let fallback = try connect(certificates: otherFirst, caFile: fixture.caCertificate, verify: false, serverName: "unknown.test")
        #expect(fallback.0.client.peerCertificateSubject == "CN=other.test")
    }

    @Test func configurationErrorsAreTyped() throws {
        #expect(throws: TLSError.self) { try TLSContext.server(certificates: []) }
        let missing = CertificatePaths(certificateChain: fixture.directory + "/missing.crt", privateKey: fixture.localhost.privateKey)
        do {
            _ = try TLSContext.server(certificates: [missing])
            Issue.record("a missing certificate file was accepted")
        } catch {
            #expect(error.reason.contains("missing.crt"))
        }
        let mismatched = CertificatePaths(certificateChain: fixture.localhost.certificateChain, privateKey: fixture.otherTest.privateKey)
        #expect(throws: TLSError.self) { try TLSContext.server(certificates: [mismatched]) }
        #expect(throws: TLSError.self) { try TLSContext.server(certificates: [fixture.localhost], alpn: [""]) }
        #expect(throws: TLSError.self) { try TLSContext.client(caFile: fixture.directory + "/missing.crt", verify: true) }
        #expect(throws: Never.self) { try TLSContext.client(caFile: nil, verify: true) }
    }
}
