import Foundation
import GatewayConfig
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// HTTP/1.1 connection behaviour: pipelining, HEAD, HTTP/1.0, Expect, keep-alive, slow heads, big heads.
@Suite final class ProtocolTests {
    @Test func pipelinedRequestsAnsweredInOrder() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("GET /public/1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /public/2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /public/3 HTTP/1.1\r\nHost: a\r\n\r\n")
        for (i, method) in ["GET", "POST", "GET"].enumerated() {
            let r = try #require(c.readResponse(), "response \(i + 1)")
            #expect(r.status == 200)
            #expect(r.json?["path"] as? String == "/public/\(i + 1)")
            #expect(r.json?["method"] as? String == method)
        }
    }

    @Test func headRequestHasNoBodyAndKeepsTheConnection() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("HEAD /public/x HTTP/1.1\r\nHost: a\r\n\r\nGET /public/y HTTP/1.1\r\nHost: a\r\n\r\n")
        // Read the HEAD response by hand: its Content-Length announces a body that is not there.
        var got: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while HTTPTestResponse.find(got, [13, 10, 13, 10]) == nil {
            let n = buf.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            got += buf[0..<n]
        }
        let end = try #require(HTTPTestResponse.find(got, [13, 10, 13, 10]))
        let head = String(decoding: got[0..<end], as: UTF8.self)
        #expect(head.hasPrefix("HTTP/1.1 200"))
        var rest = Array(got[(end + 4)...])
        while HTTPTestResponse.parse(rest) == nil {
            let n = buf.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            rest += buf[0..<n]
        }
        let next = try #require(HTTPTestResponse.parse(rest)?.0)
        #expect(next.status == 200, "the byte after the HEAD response must be the next response")
        #expect(next.json?["path"] as? String == "/public/y")
        #expect(next.json?["method"] as? String == "GET")
    }

    @Test func http10RequestIsAnswered() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("GET /public/old HTTP/1.0\r\nHost: a\r\n\r\n")
        let r = try #require(c.readResponse())
        #expect(r.status == 200)
        #expect(r.json?["path"] as? String == "/public/old")
        #expect(r.header("Transfer-Encoding") == nil, "HTTP/1.0 clients cannot read chunked")
        #expect(c.isClosedByPeer(), "HTTP/1.0 without keep-alive closes")
    }

    @Test func http10WithoutHostIsForwardedWithTheUpstreamsHost() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("GET /public/nohost HTTP/1.0\r\n\r\n")
        let r = try #require(c.readResponse())
        #expect(r.status == 200)
        // The upstream hop is HTTP/1.1, which requires Host: the server's configured address stands in.
        #expect(r.echoedHeaders["host"] == "127.0.0.1:\(stack.echoPort)")
        #expect(r.echoedHeaders["x-forwarded-host"] == nil, "the client named no host")
    }

    @Test func expect100ContinueThenBody() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("POST /public/up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = try #require(c.readResponse())
        #expect(interim.status == 100)
        c.send("hello")
        let r = try #require(c.readResponse())
        #expect(r.status == 200)
        #expect(r.json?["body_bytes"] as? Int == 5)
        #expect(r.json?["body_sha256"] as? String == sha256Hex(Array("hello".utf8)))
        #expect(r.echoedHeaders["expect"] == nil)
    }

    @Test func expectOnRejectedRequestGetsTheAnswerNotContinue() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("POST /private HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        expectAnswer(c.readResponse(), status: 401, code: "missing_token")
    }

    @Test func upstreamConnectionIsReusedAcrossRequests() throws {
        let upstream = try RawUpstream.counting()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"], loops: 1)
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        for i in 0..<4 {
            c.send("GET /public/\(i) HTTP/1.1\r\nHost: a\r\n\r\n")
            let r = try #require(c.readResponse())
            #expect(r.status == 200)
        }
        // And from another client connection too (same loop, same pool).
        #expect(try stack.send("GET", "/public/other").status == 200)
        #expect(upstream.completeRequests == 5)
        #expect(upstream.connections == 1, "keep-alive pool should reuse one upstream connection, used \(upstream.connections)")
    }

    @Test func slowHeadGets408AndClose() throws {
        let stack = try TestStack { $0.limits.headerTimeout = .milliseconds(300) }
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("GET /public/x HTTP/1.1\r\nHost: a\r\nX-Slow: ")
        // The response comes only after header_timeout; readResponse waits up to 5 s.
        expectAnswer(c.readResponse(), status: 408, code: "request_timeout")
        #expect(c.isClosedByPeer())
    }

    @Test func idleConnectionWithoutBytesJustCloses() throws {
        let stack = try TestStack { $0.limits.headerTimeout = .milliseconds(300) }
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        #expect(c.readAll(timeout: 5).isEmpty)
    }

    @Test func headersTooLarge() throws {
        let upstream = try RawUpstream.counting()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { $0.limits.maxHeaderBytes = 4 << 10 }
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("GET /public/x HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "b", count: 8 << 10))\r\n\r\n")
        expectAnswer(c.readResponse(), status: 431, code: "headers_too_large")
        #expect(c.isClosedByPeer())
        // Many small fields add up too.
        let d = try RawClient(port: stack.port)
        var many = "GET /public/x HTTP/1.1\r\nHost: a\r\n"
        for i in 0..<400 { many += "X-F\(i): vvvvvvvvvv\r\n" }
        d.send(many + "\r\n")
        expectAnswer(d.readResponse(), status: 431, code: "headers_too_large")
        #expect(upstream.requests == 0)
    }
}
