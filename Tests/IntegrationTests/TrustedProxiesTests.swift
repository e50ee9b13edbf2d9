import Foundation
import GatewayConfig
import GatewayCore
import Testing

/// `listeners[].trusted_proxies` end to end from 127.0.0.1: what the echo upstream receives, and the access log's
/// `client`, with the peer trusted (`127.0.0.1/32`) and not (`10.0.0.0/8`), over HTTP/1.1 and HTTP/2.
@Suite(.serialized) struct TrustedProxiesTests {
    static let forwarded: [(String, String)] = [("X-Forwarded-For", "203.0.113.9, 10.1.1.1"), ("X-Forwarded-For", "10.2.2.2"),
                                                ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "shop.example")]

    static func stack(trusting cidr: String) throws -> TestStack {
        let range = try CIDR.parse(cidr)
        return try TestStack { c in
            c.listeners = [ListenerConfig(address: "127.0.0.1:0", trustedProxies: TrustedProxies([range]))]
        }
    }

    static func loggedClient(_ stack: TestStack, path: String) -> [String] {
        stack.gateway.flushLogs()
        return stack.log.all.filter { $0.contains(#""path":"\#(path)""#) }.compactMap { line in
            guard let r = line.range(of: #""client":""#) else { return nil }
            return String(line[r.upperBound...].prefix { $0 != "\"" })
        }
    }

    @Test func http1FromATrustedPeerAppendsAndKeeps() throws {
        let stack = try Self.stack(trusting: "127.0.0.1/32")
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send(httpRequest("GET", "/public/trusted", headers: Self.forwarded))
        let r = try #require(c.readResponse())
        #expect(r.status == 200)
        #expect(r.echoedHeaders["x-forwarded-for"] == "203.0.113.9, 10.1.1.1, 10.2.2.2, 127.0.0.1")
        #expect(r.echoedHeaders["x-forwarded-proto"] == "https")
        #expect(r.echoedHeaders["x-forwarded-host"] == "shop.example")
        // 127.0.0.1 is trusted, 10.x are not: the first untrusted from the right.
        #expect(Self.loggedClient(stack, path: "/public/trusted") == ["10.2.2.2"])
    }

    @Test func http1FromATrustedPeerWithoutFieldsSetsThem() throws {
        let stack = try Self.stack(trusting: "127.0.0.1/32")
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send(httpRequest("GET", "/public/bare"))
        let r = try #require(c.readResponse())
        #expect(r.echoedHeaders["x-forwarded-for"] == "127.0.0.1")
        #expect(r.echoedHeaders["x-forwarded-proto"] == "http")
        #expect(r.echoedHeaders["x-forwarded-host"] == "gw.test")
        #expect(Self.loggedClient(stack, path: "/public/bare") == ["127.0.0.1"])
    }

    @Test func http1FromAnUntrustedPeerReplacesAll() throws {
        let stack = try Self.stack(trusting: "10.0.0.0/8")
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send(httpRequest("GET", "/public/untrusted", headers: Self.forwarded))
        let r = try #require(c.readResponse())
        #expect(r.status == 200)
        #expect(r.echoedHeaders["x-forwarded-for"] == "127.0.0.1")
        #expect(r.echoedHeaders["x-forwarded-proto"] == "http")
        #expect(r.echoedHeaders["x-forwarded-host"] == "gw.test")
        #expect(Self.loggedClient(stack, path: "/public/untrusted") == ["127.0.0.1"])
    }

    @Test(arguments: [("127.0.0.1/32", true), ("10.0.0.0/8", false)])
    func http2(cidr: String, trusted: Bool) throws {
        let stack = try Self.stack(trusting: cidr)
        defer { stack.stop() }
        var args = ["-s", "--http2-prior-knowledge", "-w", "\n%{http_version} %{http_code}"]
        for (n, v) in Self.forwarded { args += ["-H", "\(n): \(v)"] }
        let r = try runProcess(tool("curl"), args + ["http://127.0.0.1:\(stack.port)/public/h2"])
        #expect(r.stdout.hasSuffix("\n2 200"), "\(r.stdout)")
        if trusted {
            #expect(r.stdout.contains(#""x-forwarded-for":"203.0.113.9, 10.1.1.1, 10.2.2.2, 127.0.0.1""#), "\(r.stdout)")
            #expect(r.stdout.contains(#""x-forwarded-proto":"https""#), "\(r.stdout)")
            #expect(r.stdout.contains(#""x-forwarded-host":"shop.example""#), "\(r.stdout)")
            #expect(Self.loggedClient(stack, path: "/public/h2") == ["10.2.2.2"])
        } else {
            #expect(r.stdout.contains(#""x-forwarded-for":"127.0.0.1""#), "\(r.stdout)")
            #expect(r.stdout.contains(#""x-forwarded-proto":"http""#), "\(r.stdout)")
            #expect(r.stdout.contains(#""x-forwarded-host":"127.0.0.1:\#(stack.port)""#), "\(r.stdout)")
            #expect(Self.loggedClient(stack, path: "/public/h2") == ["127.0.0.1"])
        }
    }
}
