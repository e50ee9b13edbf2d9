import Foundation
@testable import GatewayHTTP2
import Testing

/// The upstream's response head on its way to the client (contract step 7): hop-by-hop fields, and fields the
/// upstream names in `Connection`, are dropped; the gateway's `X-Request-Id` replaces the upstream's; the rest pass.
/// Over HTTP/1.1 and HTTP/2, since each rewrites the head in place before its own framing.
@Suite(.serialized)
struct ResponseHopByHopTests {
    static let upstreamHead = "HTTP/1.1 200 OK\r\nConnection: X-Secret-Hop, keep-alive\r\nX-Secret-Hop: 1\r\n"
        + "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nX-Request-Id: from-upstream\r\nX-Kept: yes\r\n"
        + "Content-Length: 2\r\n\r\nok"

    static func upstream() throws -> RawUpstream {
        try RawUpstream { conn in
            while conn.readRequest() != nil { conn.send(upstreamHead) }
        }
    }

    static let dropped = ["x-secret-hop", "keep-alive", "proxy-connection"]

    @Test func overHTTP1() throws {
        let upstream = try Self.upstream()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let r = try stack.send("GET", "/public/x", headers: [("X-Request-Id", "client-id-1")])
        #expect(r.status == 200)
        #expect(r.bodyText == "ok")
        for name in Self.dropped { #expect(r.header(name) == nil, "\(name) reached the client") }
        #expect(r.header("connection").map { !$0.lowercased().contains("x-secret-hop") } ?? true)
        #expect(r.headers("x-request-id") == ["client-id-1"])
        #expect(r.header("x-kept") == "yes")
        #expect(r.header("content-length") == "2")
    }

    @Test func overHTTP2() throws {
        let upstream = try Self.upstream()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        let id = d.client.request(h2Get("/public/x", [("x-request-id", "client-id-2")]))
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true })
        let r = try #require(d.client.responses[id])
        #expect(r.status == 200)
        #expect(r.body == Array("ok".utf8))
        let names = r.headers.map(\.name)
        for name in Self.dropped + ["connection"] { #expect(!names.contains(name), "\(name) reached the client") }
        #expect(r.headers.filter { $0.name == "x-request-id" }.map(\.value) == ["client-id-2"])
        #expect(r.headers.first { $0.name == "x-kept" }?.value == "yes")
        #expect(r.headers.filter { $0.name == "content-length" }.map(\.value) == ["2"])
    }
}
