import Testing
@testable import GatewayTLS

@Suite struct TLSConnectionTests {
    let fixture: CertificateFixture

    init() throws {
        fixture = try CertificateFixture.get()
    }

    private func pair(clientALPN: [String] = ["h2", "http/1.1"], serverName: String? = "localhost", onlyTLS12: Bool = false) throws -> TLSPair {
        let server = try TLSContext.server(certificates: [fixture.localhost])
        let client = try TLSContext.makeClient(caFile: fixture.caCertificate, verify: true, alpn: clientALPN, onlyTLS12: onlyTLS12)
        return try TLSPair(server: server, client: client, serverName: serverName)
    }

    @Test func handshakeCompletesWithTLS13AndH2() throws {
        let pair = try pair()
        #expect(!pair.client.isHandshakeComplete)
        let (client, server) = pair.handshake()
        #expect(client == .complete)
        #expect(server == .complete)
        #expect(pair.client.isHandshakeComplete && pair.server.isHandshakeComplete)
        #expect(pair.server.isServer && !pair.client.isServer)
        #expect(pair.client.protocolVersion == "TLSv1.3")
        #expect(pair.server.protocolVersion == "TLSv1.3")
        #expect(pair.client.negotiatedALPN == "h2")
        #expect(pair.server.negotiatedALPN == "h2")
        #expect(pair.server.serverNameIndication == "localhost")
        #expect(pair.client.peerCertificateSubject == "CN=localhost")
        #expect(pair.client.cipherSuite?.hasPrefix("TLS_") == true)
    }

    @Test func alpnHTTP11WhenClientOffersOnlyIt() throws {
        let pair = try pair(clientALPN: ["http/1.1"])
        #expect(pair.handshake() == (.complete, .complete))
        #expect(pair.server.negotiatedALPN == "http/1.1")
        #expect(pair.client.negotiatedALPN == "http/1.1")
    }

    @Test func alpnFollowsServerPreference() throws {
        let pair = try pair(clientALPN: ["http/1.1", "h2"])
        #expect(pair.handshake() == (.complete, .complete))
        #expect(pair.server.negotiatedALPN == "h2")
    }

    @Test func alpnWithoutCommonProtocolStillConnects() throws {
        let pair = try pair(clientALPN: ["spdy/3.1"])
        #expect(pair.handshake() == (.complete, .complete))
        #expect(pair.server.negotiatedALPN == nil)
        #expect(pair.client.negotiatedALPN == nil)
    }

    @Test func dataRoundTripsBothWays() throws {
        let pair = try pair()
        #expect(pair.handshake() == (.complete, .complete))

        let request = Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        let up = pair.send(request, from: pair.client, to: pair.server)
        #expect(up.failure == nil)
        #expect(up.received == request)

        let response = Array("HTTP/1.1 204 No Content\r\n\r\n".utf8)
        let down = pair.send(response, from: pair.server, to: pair.client)
        #expect(down.failure == nil)
        #expect(down.received == response)
    }

    @Test func oneMegabyteInPartialWritesBothWays() throws {
        let pair = try pair()
        #expect(pair.handshake() == (.complete, .complete))
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }

        let up = pair.send(payload, from: pair.client, to: pair.server)
        #expect(up.failure == nil)
        #expect(up.received == payload)
        #expect(up.largestWrite < payload.count)  // one record at a time, not the whole megabyte

        let down = pair.send(payload, from: pair.server, to: pair.client)
        #expect(down.failure == nil)
        #expect(down.received == payload)
        #expect(down.largestWrite < payload.count)
    }

    @Test func closeNotifyIsSeenAsClosed() throws {
        let pair = try pair()
        #expect(pair.handshake() == (.complete, .complete))
        pair.client.shutdown()
        #expect(pair.client.hasPendingCiphertext)
        pair.transfer()
        #expect(TLSPair.readAvailable(pair.server).result == .closed)
    }

    @Test func endOfInputWithoutCloseNotifyFails() throws {
        let pair = try pair()
        #expect(pair.handshake() == (.complete, .complete))
        _ = TLSPair.readAvailable(pair.client)  // session tickets
        pair.client.feedEndOfInput()
        let result = TLSPair.readAvailable(pair.client).result
        #expect(result.error != nil)
    }

    @Test func plainHTTPToServerFailsCleanly() throws {
        let context = try TLSContext.server(certificates: [fixture.localhost])
        let server = try TLSConnection(context: context, serverName: nil)
        let garbage = Array("GET / HTTP/1.1\r\n\r\n".utf8)
        garbage.withUnsafeBytes { server.feed(ciphertext: $0) }
        let result = server.handshake()
        #expect(result.error != nil)
        var alert: [UInt8] = []
        server.drainCiphertext(into: &alert)
        #expect(!server.isHandshakeComplete)
        #expect(server.protocolVersion == nil)
    }

    @Test func shutdownBeforeHandshakeIsHarmless() throws {
        let pair = try pair()
        pair.client.shutdown()
        #expect(pair.handshake() == (.complete, .complete))
    }

    @Test func tls12UsesECDHEWithAEAD() throws {
        let pair = try pair(onlyTLS12: true)
        #expect(pair.handshake() == (.complete, .complete))
        #expect(pair.server.protocolVersion == "TLSv1.2")
        let cipher = pair.server.cipherSuite ?? ""
        #expect(cipher.hasPrefix("ECDHE-"))
        #expect(cipher.contains("GCM") || cipher.contains("CHACHA20-POLY1305"))
        #expect(pair.server.negotiatedALPN == "h2")
    }

    @Test func renegotiationIsRefused() throws {
        let pair = try pair(onlyTLS12: true)
        #expect(pair.handshake() == (.complete, .complete))
        #expect(pair.client.requestRenegotiation())
        _ = pair.client.handshake()  // sends the new ClientHello
        var serverResult = TLSResult.wantRead
        var clientResult = TLSResult.wantRead
        for _ in 0..<10 {
            pair.transfer()
            serverResult = TLSPair.readAvailable(pair.server).result
            pair.transfer()
            clientResult = TLSPair.readAvailable(pair.client).result
            if clientResult.isFinal || serverResult.isFinal { break }
        }
        let reason = clientResult.error?.reason ?? serverResult.error?.reason ?? ""
        #expect(reason.contains("renegotiation"), "client: \(clientResult), server: \(serverResult)")
    }
}
