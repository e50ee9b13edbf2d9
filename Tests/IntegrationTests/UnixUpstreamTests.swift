import Foundation
import GatewayConfig
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `unix:PATH` servers: a real backend on a Unix domain socket, keep-alive over it, and a missing socket.
@Suite final class UnixUpstreamTests {
    /// A fresh socket path under /tmp (short: sun_path holds 107 bytes).
    static func socketPath(_ tag: String) -> String {
        "/tmp/sgw-\(getpid())-\(tag)-\(UInt32.random(in: 0...UInt32.max)).sock"
    }

    @Test func forwardsOverAUnixSocketAndReusesTheConnection() throws {
        let path = Self.socketPath("ka")
        defer { unlink(path) }
        let upstream = try RawUpstream(unixPath: path) { conn in
            while conn.readRequest() != nil {
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
            }
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["unix:\(path)"], loops: 1)
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        for i in 0..<3 {
            c.send(httpRequest("GET", "/public/\(i)"))
            let r = try #require(c.readResponse())
            #expect(r.status == 200)
            #expect(String(decoding: r.body, as: UTF8.self) == "ok")
        }
        #expect(upstream.requests == 3)
        #expect(upstream.connections == 1, "the keep-alive connection over the socket is reused")
        let heads = upstream.receivedHeads
        #expect(heads.allSatisfy { $0.components(separatedBy: "\r\n").contains("Host: gw.test") }, "the client's Host passes unchanged")
    }

    @Test func clientWithoutHostGetsLocalhostOverAUnixSocket() throws {
        let path = Self.socketPath("nohost")
        defer { unlink(path) }
        let upstream = try RawUpstream(unixPath: path) { conn in
            while conn.readRequest() != nil {
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            }
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["unix:\(path)"], loops: 1)
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("GET /public/nohost HTTP/1.0\r\n\r\n")
        let r = try #require(c.readResponse())
        #expect(r.status == 200)
        let head = try #require(upstream.receivedHeads.first)
        #expect(head.components(separatedBy: "\r\n").contains("Host: localhost"), "a Unix socket has no host:port to name")
        #expect(!head.lowercased().contains("x-forwarded-host"), "the client named no host")
    }

    @Test func missingSocketIs502UpstreamUnavailable() throws {
        let path = Self.socketPath("missing")
        let stack = try TestStack(upstreamServers: ["unix:\(path)"])
        defer { stack.stop() }
        expectAnswer(try stack.send("GET", "/public/x"), status: 502, code: "upstream_unavailable")
        expectAnswer(try stack.send("GET", "/public/y"), status: 502, code: "upstream_unavailable")
    }

    @Test func roundRobinsBetweenATCPAndAUnixServer() throws {
        let path = Self.socketPath("rr")
        defer { unlink(path) }
        let unixUp = try RawUpstream.counting(unixPath: path)
        defer { unixUp.stop() }
        let tcpUp = try RawUpstream.counting()
        defer { tcpUp.stop() }
        let stack = try TestStack(upstreamServers: ["unix:\(path)", "127.0.0.1:\(tcpUp.port)"], loops: 1)
        defer { stack.stop() }
        for i in 0..<4 { #expect(try stack.send("GET", "/public/\(i)").status == 200) }
        #expect(unixUp.requests == 2)
        #expect(tcpUp.requests == 2)
    }
}

extension RawUpstream {
    /// `counting()` on a Unix socket.
    static func counting(unixPath: String) throws -> RawUpstream {
        try RawUpstream(unixPath: unixPath) { conn in
            while conn.readRequest() != nil {
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
            }
        }
    }
}
