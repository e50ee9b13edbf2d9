import Foundation
import GatewayConfig
import GatewayCore
import HTTP2TestSupport
import Testing

/// `listeners[].proxy_protocol` over raw sockets: v1 and v2 headers before HTTP/1.1, h2c and TLS, the proxied address
/// in `X-Forwarded-For` and the access log, and connections without a valid header closed unanswered.
@Suite(.serialized) struct ProxyProtocolTests {
    static let v1 = Array("PROXY TCP4 203.0.113.7 10.0.0.1 56324 8080\r\n".utf8)
    static let v2: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x21, 0x00, 36]
        + [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [7] + [UInt8](repeating: 0, count: 15) + [1]
        + [0xDC, 0x04, 0x1F, 0x90]

    /// An upstream that answers `200 ok` and counts the requests that reach it.
    static func countingUpstream() throws -> RawUpstream {
        try RawUpstream { conn in
            while conn.readRequest() != nil { conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") }
        }
    }

    static func stack(trusting: String? = nil, tls fixture: TLSFixture? = nil, upstream: RawUpstream? = nil) throws -> TestStack {
        let configure: (inout GatewayConfig) -> Void = { c in
            c.listeners[0].proxyProtocol = true
            if let trusting, let range = try? CIDR.parse(trusting) { c.listeners[0].trustedProxies = TrustedProxies([range]) }
            if c.listeners.count > 1 { c.listeners[1].proxyProtocol = true }
        }
        if let fixture { return try makeTLSStack(fixture, configure: configure) }
        if let upstream { return try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"], configure: configure) }
        return try TestStack(configure: configure)
    }

    static func loggedClients(_ stack: TestStack, path: String) -> [String] {
        TrustedProxiesTests.loggedClient(stack, path: path)
    }

    @Test func v1ThenHTTP1() throws {
        let stack = try Self.stack()
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send(Self.v1 + httpRequest("GET", "/public/v1", headers: [("X-Forwarded-For", "198.51.100.1")]))
        let r = try #require(c.readResponse())
        #expect(r.status == 200)
        // The proxied client is the peer: not trusted (no trusted_proxies), so the client's XFF is replaced.
        #expect(r.echoedHeaders["x-forwarded-for"] == "203.0.113.7")
        #expect(Self.loggedClients(stack, path: "/public/v1") == ["203.0.113.7"])
    }

    @Test func v2ThenHTTP1AndTheProxiedAddressIsWhatTrustedProxiesChecks() throws {
        let stack = try Self.stack(trusting: "2001:db8::/32")
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send(Self.v2 + httpRequest("GET", "/public/v2", headers: [("X-Forwarded-For", "198.51.100.1")]))
        let r = try #require(c.readResponse())
        #expect(r.status == 200)
        #expect(r.echoedHeaders["x-forwarded-for"] == "198.51.100.1, 2001:db8::7")
        #expect(Self.loggedClients(stack, path: "/public/v2") == ["198.51.100.1"])
    }

    @Test func v2LocalKeepsTheRealPeer() throws {
        let stack = try Self.stack()
        defer { stack.stop() }
        let local: [UInt8] = Array(Self.v2[0..<12]) + [0x20, 0x00, 0x00, 0x00]
        let c = try RawClient(port: stack.port)
        c.send(local + httpRequest("GET", "/public/local"))
        let r = try #require(c.readResponse())
        #expect(r.echoedHeaders["x-forwarded-for"] == "127.0.0.1")
    }

    /// A client behind the balancer sends its own PROXY line after the balancer's: only the first header counts, the
    /// second is the start of the HTTP request and is refused as such; nothing reaches the upstream.
    @Test func aSecondHeaderIsNotAnAddressButABadRequest() throws {
        let upstream = try Self.countingUpstream()
        defer { upstream.stop() }
        let stack = try Self.stack(trusting: "0.0.0.0/0", upstream: upstream)
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        let spoof = Array("PROXY TCP4 10.9.9.9 10.0.0.1 1111 8080\r\n".utf8)
        c.send(Self.v1 + spoof + httpRequest("GET", "/public/twice"))
        let r = try #require(c.readResponse())
        #expect(r.status == 400)
        #expect(Self.loggedClients(stack, path: "/public/twice").allSatisfy { $0 != "10.9.9.9" })
        #expect(upstream.requests == 0)
    }

    /// A PROXY line sent late, on a keep-alive connection after a first request, is a bad request, not a new address.
    @Test func aHeaderAfterTheFirstRequestIsABadRequest() throws {
        let upstream = try Self.countingUpstream()
        defer { upstream.stop() }
        let stack = try Self.stack(upstream: upstream)
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send(Self.v1 + httpRequest("GET", "/public/first"))
        #expect(c.readResponse()?.status == 200)
        c.send(Array("PROXY TCP4 10.9.9.9 10.0.0.1 1111 8080\r\n".utf8) + httpRequest("GET", "/public/late"))
        #expect(c.readResponse()?.status == 400)
        #expect(upstream.requests == 1)
    }

    /// Without `proxy_protocol`, a PROXY line from a client is never taken as an address.
    @Test func aListenerWithoutProxyProtocolRefusesTheHeader() throws {
        let upstream = try Self.countingUpstream()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send(Self.v1 + httpRequest("GET", "/public/unasked"))
        #expect(c.readResponse()?.status == 400)
        #expect(upstream.requests == 0)
    }

    @Test func headerAndRequestByteByByte() throws {
        let stack = try Self.stack()
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        var nodelay: Int32 = 1
        setsockopt(c.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &nodelay, socklen_t(MemoryLayout<Int32>.size))
        for b in Self.v2 + httpRequest("GET", "/public/slow") {
            c.send([b])
            usleep(500)
        }
        let r = try #require(c.readResponse())
        #expect(r.status == 200)
        #expect(r.echoedHeaders["x-forwarded-for"] == "2001:db8::7")
    }

    @Test func v1ThenH2cPreface() throws {
        let stack = try Self.stack()
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        d.raw.send(Self.v1)
        let id = d.client.request(h2Get("/public/h2c"))
        let answered = d.pump { d.client.responses[id]?.endStreamReceived == true }
        #expect(answered == true)
        let response = try #require(d.client.responses[id])
        #expect(response.status == 200)
        let body = String(decoding: response.body, as: UTF8.self)
        #expect(body.contains(#""x-forwarded-for":"203.0.113.7""#), "\(body)")
        #expect(Self.loggedClients(stack, path: "/public/h2c") == ["203.0.113.7"])
    }

    @Test func tlsListenerTakesTheHeaderBeforeTheClientHello() throws {
        let fixture = try TLSFixture()
        let stack = try Self.stack(tls: fixture)
        defer { stack.stop() }
        // curl's v1 header names its own address; the point is that the handshake and request work behind it.
        for http in ["--http1.1", "--http2"] {
            let r = try runProcess(tool("curl"), ["-s", "--haproxy-protocol", http, "--cacert", fixture.cert,
                                                  "-w", "\n%{http_version} %{http_code}",
                                                  "https://127.0.0.1:\(stack.tlsPort)/public/tls"])
            #expect(r.stdout.hasSuffix(http == "--http2" ? "\n2 200" : "\n1.1 200"), "\(r.stdout) \(r.stderr)")
            #expect(r.stdout.contains(#""x-forwarded-for":"127.0.0.1""#), "\(r.stdout)")
            #expect(r.stdout.contains(#""x-forwarded-proto":"https""#), "\(r.stdout)")
        }
        // Without the header the TLS listener closes the connection.
        let plain = try runProcess(tool("curl"), ["-s", "--cacert", fixture.cert, "-w", "%{http_code}",
                                                  "https://127.0.0.1:\(stack.tlsPort)/public/tls"])
        #expect(plain.status != 0)
        #expect(plain.stdout == "000")
    }

    @Test(arguments: ["missing", "garbage", "bad v1", "bad v2", "timeout"])
    func withoutAValidHeaderTheConnectionClosesUnanswered(_ kind: String) throws {
        let stack = try Self.stack()
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        switch kind {
        case "missing": c.send(httpRequest("GET", "/public/x"))
        case "garbage": c.send([0x16, 0x03, 0x01, 0x02, 0x00] + [UInt8](repeating: 0x41, count: 100))
        case "bad v1": c.send(Array("PROXY TCP4 203.0.113.7 10.0.0.1 99999 80\r\n".utf8) + httpRequest("GET", "/public/x"))
        case "bad v2": c.send(Array(Self.v2[0..<12]) + [0x21, 0x12, 0x00, 0x0C] + [UInt8](repeating: 0, count: 12))
        default: c.send(Array("PROXY TCP4 203.0.113.7".utf8))  // never completed: header_timeout (1s) closes
        }
        // EOF (or a reset) with no byte before it: nothing answered, connection closed.
        #expect(c.isClosedByPeer(timeout: 4) == true)
        stack.gateway.flushLogs()
        #expect(!stack.log.all.contains { $0.contains("/public/x") })
    }
}
