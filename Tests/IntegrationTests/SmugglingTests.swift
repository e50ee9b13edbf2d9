import Foundation
import Testing

/// CONTRACT step 1: every ambiguous or malformed request gets `400 bad_request` (or 501 for an unknown coding),
/// the connection closes, and nothing reaches the upstream.
@Suite final class SmugglingTests {
    let upstream: RawUpstream
    let stack: TestStack

    init() throws {
        upstream = try RawUpstream.counting()
        stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
    }

    deinit {
        stack.stop()
        upstream.stop()
    }

    static let cases: [(String, String)] = [
        ("CL and TE", "POST /public/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /public/smuggled HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("TE and CL", "POST /public/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
        ("two differing CLs", "POST /public/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        ("CL list", "POST /public/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!"),
        ("CL not digits", "POST /public/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5a\r\n\r\nhello"),
        ("CL with sign", "POST /public/x HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello"),
        ("CL negative", "POST /public/x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
        ("CL huge", "POST /public/x HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
        ("obs-fold", "GET /public/x HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"),
        ("obs-fold tab", "GET /public/x HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n"),
        ("space before colon", "GET /public/x HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n"),
        ("space before colon on TE", "POST /public/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc"),
        ("bare LF", "GET /public/x HTTP/1.1\nHost: a\n\n"),
        ("bare LF in a field", "GET /public/x HTTP/1.1\r\nHost: a\r\nX-A: b\nX-B: c\r\n\r\n"),
        ("bare CR in a field", "GET /public/x HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n"),
        ("NUL in a field", "GET /public/x HTTP/1.1\r\nHost: a\r\nX-A: b\u{0}c\r\n\r\n"),
        ("control in a field", "GET /public/x HTTP/1.1\r\nHost: a\r\nX-A: b\u{1}c\r\n\r\n"),
        ("bad chunk size", "POST /public/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
        ("negative chunk size", "POST /public/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n"),
        ("0x chunk size", "POST /public/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"),
        ("overflowing chunk size", "POST /public/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
        ("chunk without CRLF after data", "POST /public/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"),
        ("missing Host", "GET /public/x HTTP/1.1\r\nX-A: b\r\n\r\n"),
        ("two Hosts", "GET /public/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        ("two identical Hosts", "GET /public/x HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
        ("bad method", "G@T /public/x HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("empty method", " /public/x HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("target not origin-form", "GET public/x HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("control in target", "GET /public/x\u{1}y HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("two spaces in request line", "GET  /public/x HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("bad version", "GET /public/x HTTP/1.x\r\nHost: a\r\n\r\n"),
        ("empty field name", "GET /public/x HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"),
    ]

    @Test(arguments: 0..<SmugglingTests.cases.count)
    func rejectedAndNothingForwarded(index: Int) throws {
        let (name, raw) = Self.cases[index]
        let c = try RawClient(port: stack.port)
        c.send(raw)
        let r = c.readResponse()
        expectAnswer(r, status: 400, code: "bad_request", sourceLocation: #_sourceLocation)
        if r?.status != 400 { Issue.record("case \(name): got \(r?.status ?? 0) \(r?.bodyText ?? "")") }
        #expect(c.isClosedByPeer(), "case \(name): connection must close")
        // A good request afterwards proves the gateway still works and that the upstream saw only that one.
        let ok = try stack.send("GET", "/public/after")
        #expect(ok.status == 200, "case \(name)")
        #expect(upstream.requests == 1, "case \(name): upstream saw \(upstream.receivedHeads)")
        #expect(upstream.receivedHeads.allSatisfy { $0.hasPrefix("GET /public/after ") }, "case \(name): \(upstream.receivedHeads)")
    }

    static let codings: [String] = ["chunked, gzip", "gzip", "gzip, chunked, identity", "chunked, chunked", "identity"]

    @Test(arguments: SmugglingTests.codings)
    func transferEncodingNotEndingInChunked(coding: String) throws {
        let c = try RawClient(port: stack.port)
        c.send("POST /public/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(coding)\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        let r = try #require(c.readResponse())
        #expect(r.status == 400 || r.status == 501, "TE \(coding): \(r.status)")
        #expect(c.isClosedByPeer())
        #expect(upstream.requests == 0, "TE \(coding) reached the upstream: \(upstream.receivedHeads)")
    }

    @Test func badChunkAfterTheHeadWentOutNeverCompletesUpstream() throws {
        let c = try RawClient(port: stack.port)
        c.send("POST /public/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        // Let the head and first chunk stream out, then break the framing.
        Thread.sleep(forTimeInterval: 0.2)
        c.send("zz\r\n\r\n")
        let r = c.readResponse()
        expectAnswer(r, status: 400, code: "bad_request")
        #expect(c.isClosedByPeer())
        let ok = try stack.send("GET", "/public/after")
        #expect(ok.status == 200)
        #expect(upstream.completeRequests == 1, "only the good request completes: \(upstream.receivedHeads)")
    }
}
