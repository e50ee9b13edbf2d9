import Foundation
@testable import GatewayHTTP2
import GatewayCore
import Testing

/// Trailers between an HTTP/2 client and an HTTP/1.1 upstream: chunked trailer fields one way, a trailing HEADERS
/// frame the other, minus framing, routing and auth fields (TrailerFilter).
@Suite(.serialized)
struct HTTP2TrailerTests {
    @Test func requestTrailersReachTheUpstreamAsChunkedTrailerFields() throws {
        let received = Locked<String?>(nil)
        let upstream = try RawUpstream { conn in
            guard let head = conn.readHead() else { return }
            // Everything up to the empty line that ends the trailer section, kept raw to see the chunked framing.
            var body: [UInt8] = []
            while !HTTP2TrailerTests.endsChunkedBody(body) {
                let more = conn.readSome()
                if more.isEmpty { break }
                body += more
            }
            received.withLock { $0 = head + "\r\n\r\n" + String(decoding: body, as: UTF8.self) }
            conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        let id = d.client.request(h2Get("/public/upload", [("te", "trailers")]).map { ($0.0 == ":method" ? ($0.0, "POST") : $0) },
                                  body: Array("hello world".utf8),
                                  trailers: [("x-checksum", "sha256=abc"), ("x-trace", "t1"),
                                             ("authorization", "Bearer smuggled"), ("x-shop-domain", "evil.myshopify.com"),
                                             ("x_customer_id", "gid://shopify/Customer/1"), ("host", "evil.example")])
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true })
        #expect(d.client.responses[id]?.status == 200)
        let wire = try #require(received.withLock { $0 })
        let lower = wire.lowercased()
        #expect(lower.contains("\r\ntransfer-encoding: chunked\r\n"), "\(wire)")
        #expect(wire.hasSuffix("\r\n0\r\nx-checksum: sha256=abc\r\nx-trace: t1\r\n\r\n"), "\(wire)")
        let lastChunk = try #require(lower.range(of: "\r\n0\r\n"))
        let trailerSection = String(lower[lastChunk.upperBound...])
        for forbidden in ["authorization", "x-shop-domain", "x_customer_id", "host:"] {
            #expect(!trailerSection.contains(forbidden), "\(forbidden) passed in \(wire)")
        }
    }

    /// A framing field in request trailers makes the message malformed (RFC 9113 8.1.1): nghttp2 resets the stream, and
    /// the upstream never sees the request end.
    @Test func contentLengthInRequestTrailersResetsTheStream() throws {
        let upstream = try RawUpstream.counting()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        let id = d.client.request(h2Get("/public/upload").map { ($0.0 == ":method" ? ($0.0, "POST") : $0) },
                                  body: Array("hello world".utf8), trailers: [("x-a", "1"), ("content-length", "5")])
        #expect(d.pump { d.client.responses[id]?.closed == true })
        #expect(d.client.responses[id]?.resetReceived == HTTP2ErrorCode.protocolError)
        #expect(upstream.completeRequests == 0)
        // Only the stream failed.
        let next = d.client.request(h2Get("/public/after"))
        #expect(d.pump { d.client.responses[next]?.endStreamReceived == true })
        #expect(d.client.responses[next]?.status == 200)
    }

    @Test func responseTrailersReachTheClientAsATrailingHeadersFrame() throws {
        let upstream = try RawUpstream { conn in
            while conn.readRequest() != nil {
                conn.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
                          + "5\r\nhello\r\n6\r\n world\r\n0\r\n"
                          + "X-Checksum: sha256=abc\r\nServer-Timing: db;dur=53\r\nContent-Length: 99\r\n"
                          + "Set-Cookie: s=1\r\nX-Customer-Id: forged\r\nWWW-Authenticate: Basic\r\n\r\n")
            }
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        let id = d.client.request(h2Get("/public/download"))
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true })
        let r = try #require(d.client.responses[id])
        #expect(r.status == 200)
        #expect(r.body == Array("hello world".utf8))
        #expect(!r.headers.contains { $0.name == "content-length" || $0.name == "transfer-encoding" })
        #expect(r.trailers.map { "\($0.name): \($0.value)" } == ["x-checksum: sha256=abc", "server-timing: db;dur=53"])
        #expect(r.resetReceived == nil)
        // The connection carries on.
        let next = d.client.request(h2Get("/public/again"))
        #expect(d.pump { d.client.responses[next]?.endStreamReceived == true })
        #expect(d.client.responses[next]?.trailers.count == 2)
    }

    @Test func responseWhoseTrailersAreAllFilteredEndsWithoutATrailingHeadersFrame() throws {
        let upstream = try RawUpstream { conn in
            while conn.readRequest() != nil {
                conn.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nContent-Length: 3\r\nSet-Cookie: s=1\r\n\r\n")
            }
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        let id = d.client.request(h2Get("/public/x"))
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true })
        #expect(d.client.responses[id]?.body == Array("abc".utf8))
        #expect(d.client.responses[id]?.trailers.isEmpty == true)
    }

    /// True once `raw` holds a whole chunked body: a last chunk and the empty line after its trailer section.
    static func endsChunkedBody(_ raw: [UInt8]) -> Bool {
        guard raw.suffix(4).elementsEqual([13, 10, 13, 10]) || raw.elementsEqual(Array("0\r\n\r\n".utf8)) else { return false }
        return raw.starts(with: Array("0\r\n".utf8)) || HTTPTestResponse.find(raw, Array("\r\n0\r\n".utf8)) != nil
    }
}
