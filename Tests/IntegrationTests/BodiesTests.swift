import Foundation
import GatewayConfig
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Request and response bodies stream byte-exact both ways; limits answer 413.
@Suite final class BodiesTests {
    @Test func oneMegabyteByContentLengthArrivesExact() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let body = patternBytes(1 << 20)
        let r = try stack.send("POST", "/upload", token: Tok.valid(), body: body)
        #expect(r.status == 200)
        #expect(r.json?["body_bytes"] as? Int == body.count)
        #expect(r.json?["body_sha256"] as? String == sha256Hex(body))
    }

    @Test func oneMegabyteChunkedArrivesExactAndStaysChunked() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let body = patternBytes(1 << 20, seed: 7)
        let c = try RawClient(port: stack.port)
        c.send("POST /upload HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(Tok.valid())\r\nTransfer-Encoding: chunked\r\n\r\n")
        // Uneven chunk sizes, so chunk boundaries never line up with reads.
        var off = 0
        var size = 1
        while off < body.count {
            let n = min(size, body.count - off)
            var chunk = Array((String(n, radix: 16) + "\r\n").utf8)
            chunk += body[off..<off + n]
            chunk += Array("\r\n".utf8)
            c.send(chunk)
            off += n
            size = size * 3 + 17
            if size > 200_000 { size = 1013 }
        }
        c.send("0\r\n\r\n")
        let r = try #require(c.readResponse())
        #expect(r.status == 200)
        #expect(r.echoedHeaders["transfer-encoding"] == "chunked")
        #expect(r.echoedHeaders["content-length"] == nil)
        #expect(r.json?["body_bytes"] as? Int == body.count)
        #expect(r.json?["body_sha256"] as? String == sha256Hex(body))
    }

    @Test func bodyTooLargeByContentLength() throws {
        let upstream = try RawUpstream.counting()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { $0.limits.maxBodyBytes = 64 << 10 }
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("POST /public/x HTTP/1.1\r\nHost: a\r\nContent-Length: \(1 << 20)\r\n\r\n")
        expectAnswer(c.readResponse(), status: 413, code: "body_too_large")
        #expect(c.isClosedByPeer())
        #expect(upstream.requests == 0)
    }

    @Test func bodyTooLargeWhileStreamingChunked() throws {
        let upstream = try RawUpstream.counting()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { $0.limits.maxBodyBytes = 64 << 10 }
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("POST /public/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = Array("4000\r\n".utf8) + patternBytes(0x4000) + Array("\r\n".utf8)
        for _ in 0..<8 { c.send(chunk) }
        expectAnswer(c.readResponse(), status: 413, code: "body_too_large")
        #expect(c.isClosedByPeer())
        #expect(upstream.completeRequests == 0, "an over-limit body must never complete upstream")
    }

    @Test func fiveMebibyteResponseStreamsToASlowReader() throws {
        let payload = patternBytes(5 << 20, seed: 99)
        let upstream = try RawUpstream { conn in
            while conn.readRequest() != nil {
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: \(payload.count)\r\nContent-Type: application/octet-stream\r\n\r\n")
                if !conn.send(payload) { return }
            }
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }

        // Fast reader.
        let fast = try stack.send("GET", "/public/big")
        #expect(fast.status == 200)
        #expect(fast.body.count == payload.count)
        #expect(sha256Hex(fast.body) == sha256Hex(payload))

        // Slow reader: a 64 KiB receive buffer and small reads with pauses; back-pressure must hold the rest.
        let c = try RawClient(port: stack.port, receiveBuffer: 64 << 10)
        c.send("GET /public/big HTTP/1.1\r\nHost: a\r\n\r\n")
        var got: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 8 << 10)
        var reads = 0
        while true {
            let n = buf.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            got += buf[0..<n]
            reads += 1
            if reads % 16 == 0 { usleep(1000) }
            if let end = HTTPTestResponse.find(got, [13, 10, 13, 10]), got.count >= end + 4 + payload.count { break }
        }
        let parsed = try #require(HTTPTestResponse.parse(got))
        #expect(parsed.0.status == 200)
        #expect(parsed.0.body.count == payload.count)
        #expect(sha256Hex(parsed.0.body) == sha256Hex(payload))
    }

    @Test func chunkedResponseStaysChunkedWithTrailers() throws {
        let upstream = try RawUpstream { conn in
            while conn.readRequest() != nil {
                conn.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: abc\r\n\r\n")
            }
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("GET /public/x HTTP/1.1\r\nHost: a\r\n\r\n")
        let r = try #require(c.readResponse())
        #expect(r.status == 200)
        #expect(r.header("Transfer-Encoding") == "chunked")
        #expect(r.bodyText == "hello world")
    }

    @Test func clientAbortMidUploadNeverLeavesAHalfReadUpstream() throws {
        let upstream = try RawUpstream.counting()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"], loops: 1)
        defer { stack.stop() }
        do {
            let c = try RawClient(port: stack.port)
            c.send("POST /public/upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n")
            c.send(patternBytes(50_000))
            // Wait until the upstream has the head, so the abort happens mid-body.
            for _ in 0..<500 where upstream.requests == 0 { usleep(10_000) }
            #expect(upstream.requests == 1)
        }
        // The client socket is closed now. A normal request must succeed on a clean upstream connection.
        for _ in 0..<3 {
            let ok = try stack.send("POST", "/public/after", body: Array("ping".utf8))
            #expect(ok.status == 200)
            #expect(ok.bodyText == "ok")
        }
        #expect(upstream.completeRequests == 3, "heads seen: \(upstream.receivedHeads)")
        #expect(upstream.receivedHeads.dropFirst().allSatisfy { $0.hasPrefix("POST /public/after ") })
        #expect(upstream.connections >= 2, "the aborted upload's upstream connection must not be reused")
    }
}
