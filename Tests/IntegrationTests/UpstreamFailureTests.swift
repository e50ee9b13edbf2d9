import Foundation
import GatewayConfig
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Upstreams that are down, slow or broken, and the WebSocket tunnel.
@Suite final class UpstreamFailureTests {
    /// A port nobody listens on: bind 127.0.0.1:0, read the port, close.
    static func deadPort() throws -> Int {
        let u = try RawUpstream { _ in }
        let p = u.port
        u.stop()
        // The accept thread closes the listening socket within one poll interval.
        for _ in 0..<100 {
            let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(probe) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(p).bigEndian
            inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
            let r = withUnsafePointer(to: &addr) { ptr in
                ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if r != 0 { return p }
            usleep(20_000)
        }
        throw TestFailure("port \(p) still accepts")
    }

    @Test func upstreamUnavailable() throws {
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(try Self.deadPort())"])
        defer { stack.stop() }
        let r = try stack.send("GET", "/private/x", token: Tok.valid(), headers: [("Origin", "null")])
        expectAnswer(r, status: 502, code: "upstream_unavailable")
        #expect(r.header("Access-Control-Allow-Origin") == "*")
        // A second request (server resting) is answered the same way, not hung.
        expectAnswer(try stack.send("GET", "/public/x"), status: 502, code: "upstream_unavailable")
    }

    @Test func badUpstreamResponse() throws {
        let upstream = try RawUpstream { conn in
            _ = conn.readHead()
            conn.send("HELLO I AM NOT HTTP\r\n\r\n")
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        expectAnswer(try stack.send("GET", "/public/x"), status: 502, code: "bad_upstream_response")
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
    ])
    func ambiguousUpstreamResponseIs502AndConnectionDropped(response: String) throws {
        let upstream = try RawUpstream { conn in
            while conn.readRequest() != nil { conn.send(response) }
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"], loops: 1)
        defer { stack.stop() }
        expectAnswer(try stack.send("GET", "/public/x"), status: 502, code: "bad_upstream_response")
        expectAnswer(try stack.send("GET", "/public/y"), status: 502, code: "bad_upstream_response")
        #expect(upstream.connections == 2, "a connection that sent a bad response must be closed, not reused")
    }

    @Test func upstreamTimeout() throws {
        let upstream = try RawUpstream { conn in
            _ = conn.readHead()
            conn.waitForClose()
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { c in
            c.upstreams[0].responseTimeout = .milliseconds(300)
        }
        defer { stack.stop() }
        let r = try stack.send("GET", "/private/x", token: Tok.valid())
        expectAnswer(r, status: 504, code: "upstream_timeout")
    }

    /// The response timer of a pooled connection is disarmed after one answer and armed again for the next request
    /// while it may still sit in the timer wheel under its first deadline; it must still fire for the second.
    @Test func upstreamTimeoutOnAReusedConnection() throws {
        let upstream = try RawUpstream { conn in
            guard conn.readRequest() != nil else { return }
            conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            guard conn.readRequest() != nil else { return }
            conn.waitForClose()
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"], loops: 1) { c in
            c.upstreams[0].responseTimeout = .milliseconds(300)
        }
        defer { stack.stop() }
        #expect(try stack.send("GET", "/public/x").status == 200)
        usleep(100_000)
        expectAnswer(try stack.send("GET", "/public/y"), status: 504, code: "upstream_timeout")
        #expect(upstream.connections == 1, "the second request must have reused the pooled connection")
    }

    @Test func upstreamClosingMidResponseClosesTheClient() throws {
        let upstream = try RawUpstream { conn in
            _ = conn.readHead()
            conn.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part")
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("GET /public/x HTTP/1.1\r\nHost: a\r\n\r\n")
        let bytes = c.readAll(timeout: 5)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200"))
        #expect(text.hasSuffix("only-part"), "the client must see a truncated body and a close: \(text)")
    }

    // MARK: WebSocket

    static func webSocketUpstream() throws -> RawUpstream {
        try RawUpstream { conn in
            guard let head = conn.readHead() else { return }
            guard head.lowercased().contains("upgrade: websocket") else {
                conn.send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            }
            conn.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n")
            while true {
                let b = conn.readSome()
                if b.isEmpty { return }
                conn.send(Array("echo:".utf8) + b)
            }
        }
    }

    @Test func webSocketTunnelOnceAuthorized() throws {
        let upstream = try Self.webSocketUpstream()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("GET /private/ws HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(Tok.valid())\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Shop-Domain: evil\r\n\r\n")
        let r = try #require(c.readResponse())
        #expect(r.status == 101)
        #expect(r.header("Upgrade")?.lowercased() == "websocket")
        let head = try #require(upstream.receivedHeads.first)
        #expect(head.contains("X-Shop-Domain: a.myshopify.com"))
        #expect(!head.contains("evil"))
        for msg in ["hello", "second frame"] {
            c.send(msg)
            #expect(String(decoding: c.read(count: 5 + msg.utf8.count), as: UTF8.self) == "echo:" + msg)
        }
    }

    @Test func unauthorizedUpgradeGets401AndNothingUpstream() throws {
        let upstream = try Self.webSocketUpstream()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("GET /private/ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        expectAnswer(c.readResponse(), status: 401, code: "missing_token")
        #expect(upstream.requests == 0)
    }

    @Test func unrequested101IsABadUpstreamResponse() throws {
        let upstream = try RawUpstream { conn in
            _ = conn.readHead()
            conn.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            conn.waitForClose()
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        expectAnswer(try stack.send("GET", "/public/x"), status: 502, code: "bad_upstream_response")
    }
}
