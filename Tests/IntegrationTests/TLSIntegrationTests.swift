import Foundation
import GatewayConfig
import Testing

/// TLS listeners (ALPN h2 and http/1.1) and TLS to upstreams, against real curl and openssl.
@Suite(.serialized)
struct TLSIntegrationTests {
    @Test func curlSpeaksHTTP2AndHTTP1OverTLS() throws {
        let fx = try TLSFixture()
        let stack = try makeTLSStack(fx)
        defer { stack.stop() }
        for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
            let r = try runProcess(tool("curl"), ["-s", flag, "--cacert", fx.cert, "-H", "Authorization: Bearer \(H2Tokens.good())",
                                                  "-w", "\n%{http_version} %{http_code}",
                                                  "https://localhost:\(stack.tlsPort)/tls?q=1"])
            let lines = r.stdout.split(separator: "\n")
            #expect(lines.last == "\(version) 200", "curl \(flag): \(r.stdout) \(r.stderr)")
            #expect(r.stdout.contains(#""x-forwarded-proto":"https""#))
            #expect(r.stdout.contains(#""x-shop-domain":"shop.myshopify.com""#))
        }
    }

    @Test func opensslNegotiatesH2() throws {
        let fx = try TLSFixture()
        let stack = try makeTLSStack(fx)
        defer { stack.stop() }
        let r = try runProcess(tool("openssl"), ["s_client", "-alpn", "h2", "-connect", "127.0.0.1:\(stack.tlsPort)"], stdin: "")
        #expect(r.stdout.contains("ALPN protocol: h2"), "\(r.stdout)")
        let r1 = try runProcess(tool("openssl"), ["s_client", "-alpn", "http/1.1", "-connect", "127.0.0.1:\(stack.tlsPort)"], stdin: "")
        #expect(r1.stdout.contains("ALPN protocol: http/1.1"))
    }

    @Test func plainHTTPToTLSPortDoesNoHarm() throws {
        let fx = try TLSFixture()
        let stack = try makeTLSStack(fx)
        defer { stack.stop() }
        let raw = try RawClient(port: stack.tlsPort)
        raw.send("GET /public/x HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let answer = raw.readAll(timeout: 3)
        #expect(!String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/"))
        #expect(raw.isClosedByPeer(timeout: 1))
        // The listener keeps serving.
        let r = try runProcess(tool("curl"), ["-s", "--cacert", fx.cert, "-o", "/dev/null", "-w", "%{http_code}",
                                              "https://localhost:\(stack.tlsPort)/public/after"])
        #expect(r.stdout == "200")
        #expect(stack.gateway.connectionCount <= 1)
    }

    @Test func upstreamTLSVerifiesTheCertificate() throws {
        let fx = try TLSFixture()
        let port = try freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: tool("openssl"))
        server.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", fx.cert, "-key", fx.key, "-www", "-quiet"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        server.standardInput = Pipe()
        try server.run()
        // s_server ignores SIGTERM while it waits in accept.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        var up = false
        for _ in 0..<100 where !up {
            if (try? RawClient(port: port)) != nil { up = true } else { usleep(50_000) }
        }
        #expect(up)

        for (ca, name, status) in [(fx.cert, "localhost", "200"), (fx.otherCert, "localhost", "502"), (fx.cert, "wrong.example", "502")] {
            let stack = try TestStack(upstreamServers: ["127.0.0.1:\(port)"]) { c in
                c.upstreams[0].tls = UpstreamTLSConfig(serverName: name, caFile: ca, verify: true)
            }
            defer { stack.stop() }
            let r = try runProcess(tool("curl"), ["-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(stack.port)/public/x"])
            #expect(r.stdout.hasSuffix("\n\(status)"), "ca \(ca) name \(name): \(r.stdout)")
            if status == "502" { #expect(r.stdout.contains(#""error":"upstream_unavailable""#)) }
        }
    }
}
