import GatewayCore
import Testing
@testable import GatewayHTTP1

@Suite struct HTTP1SerializerTests {
    @Test func requestHeadRoundTrip() {
        let head = HTTPRequestHead(method: "PATCH", target: "/items/7?x=1", version: .http1_0,
                                   headers: HTTPHeaders([("Host", "backend:3000"), ("X-Shop-Domain", "s.myshopify.com"),
                                                         ("Content-Length", "2")]))
        var out: [UInt8] = []
        HTTP1Serializer.writeRequestHead(head, into: &out)
        #expect(String(decoding: out, as: UTF8.self)
            == "PATCH /items/7?x=1 HTTP/1.1\r\nHost: backend:3000\r\nX-Shop-Domain: s.myshopify.com\r\nContent-Length: 2\r\n\r\n")
        let (o, mismatches) = requestOutcome(bytes: out + Array("ok".utf8))
        #expect(mismatches.isEmpty)
        #expect(o.events == [
            "head PATCH /items/7?x=1 HTTP/1.1 authority=backend:3000 framing=contentLength(2) keepAlive=true "
                + "[Host=backend:3000,X-Shop-Domain=s.myshopify.com,Content-Length=2]",
            "body", "end",
        ])
    }

    @Test("addingFraming writes the head's framing after its fields", arguments: [
        (BodyFraming.contentLength(0), "Content-Length: 0\r\n"),
        (.contentLength(1_500_000), "Content-Length: 1500000\r\n"),
        (.contentLength(Int.max), "Content-Length: 9223372036854775807\r\n"),
        (.chunked, "Transfer-Encoding: chunked\r\n"),
        (.none, ""),
    ])
    func requestHeadWithFraming(framing: BodyFraming, line: String) {
        var head = HTTPRequestHead(method: "POST", target: "/u", version: .http2, headers: HTTPHeaders([("Host", "b")]))
        head.framing = framing
        var out: [UInt8] = []
        HTTP1Serializer.writeRequestHead(head, addingFraming: true, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "POST /u HTTP/1.1\r\nHost: b\r\n" + line + "\r\n")
    }

    @Test func responseHeadRoundTrip() {
        let head = HTTPResponseHead(status: 404, reason: "", version: .http1_0,
                                    headers: HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", "0")]))
        var out: [UInt8] = []
        HTTP1Serializer.writeResponseHead(head, into: &out)
        #expect(String(decoding: out, as: UTF8.self)
            == "HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n")
        let (o, mismatches) = outcomesOfResponse(out)
        #expect(mismatches.isEmpty)
        #expect(o.events.first == "head HTTP/1.0 404 Not Found framing=contentLength(0) keepAlive=false "
            + "[Content-Type=application/json,Content-Length=0]")
    }

    @Test func customReasonIsKept() {
        var out: [UInt8] = []
        HTTP1Serializer.writeResponseHead(HTTPResponseHead(status: 299, reason: "Fine"), into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "HTTP/1.1 299 Fine\r\n\r\n")
        out = []
        HTTP1Serializer.writeResponseHead(HTTPResponseHead(status: 299), into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "HTTP/1.1 299 \r\n\r\n")
    }

    @Test func chunkFraming() {
        var out: [UInt8] = []
        HTTP1Serializer.writeChunkHeader(size: 0, into: &out)
        HTTP1Serializer.writeChunkHeader(size: 255, into: &out)
        HTTP1Serializer.writeChunkHeader(size: 0x1_0000, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "0\r\nff\r\n10000\r\n")
        #expect(HTTP1Serializer.chunkTerminator == [0x0D, 0x0A])
        out = []
        HTTP1Serializer.writeLastChunk(trailers: HTTPHeaders([("X-T", "1")]), into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "0\r\nX-T: 1\r\n\r\n")
    }

    @Test func chunkedBodyRoundTrip() {
        var out: [UInt8] = []
        var head = HTTPRequestHead(method: "POST", target: "/", version: .http1_1,
                                   headers: HTTPHeaders([("Host", "a"), ("Transfer-Encoding", "chunked")]))
        head.framing = .chunked
        HTTP1Serializer.writeRequestHead(head, into: &out)
        for piece in ["hello", " ", String(repeating: "z", count: 300)] {
            HTTP1Serializer.writeChunkHeader(size: piece.utf8.count, into: &out)
            out += Array(piece.utf8) + HTTP1Serializer.chunkTerminator
        }
        HTTP1Serializer.writeLastChunk(trailers: HTTPHeaders([("X-Sum", "9")]), into: &out)
        let (o, mismatches) = requestOutcome(bytes: out)
        #expect(mismatches.isEmpty)
        #expect(o.error == nil)
        #expect(o.events.suffix(2) == ["trailers [X-Sum=9]", "end"])
        #expect(o.body == Array(("hello " + String(repeating: "z", count: 300)).utf8))
    }

    private func outcomesOfResponse(_ bytes: [UInt8]) -> (Outcome, [String]) {
        responseOutcome(String(decoding: bytes, as: UTF8.self))
    }
}
