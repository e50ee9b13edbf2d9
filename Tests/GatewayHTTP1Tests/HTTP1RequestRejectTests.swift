import GatewayCore
import Testing
@testable import GatewayHTTP1

/// One message that must never reach a backend, and the status it must get.
struct RejectCase: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    let status: Int
    var limits = HTTP1Limits()

    init(_ name: String, _ text: String, _ status: Int = 400, limits: HTTP1Limits = HTTP1Limits()) {
        self.name = name
        bytes = Array(text.utf8)
        self.status = status
        self.limits = limits
    }

    init(_ name: String, bytes: [UInt8], _ status: Int = 400) {
        self.name = name
        self.bytes = bytes
        self.status = status
    }

    var testDescription: String { name }
}

private let head = "POST / HTTP/1.1\r\nHost: a\r\n"
private let chunkedHead = head + "Transfer-Encoding: chunked\r\n\r\n"

/// The request smuggling and strictness corpus (CONTRACT step 1).
let rejectCorpus: [RejectCase] = [
    // Framing: Content-Length and Transfer-Encoding
    RejectCase("CL and TE", head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    RejectCase("TE and CL", head + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
    RejectCase("two differing CLs", head + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
    RejectCase("two identical CLs", head + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
    RejectCase("CL list", head + "Content-Length: 5, 5\r\n\r\nhello"),
    RejectCase("CL +5", head + "Content-Length: +5\r\n\r\nhello"),
    RejectCase("CL -1", head + "Content-Length: -1\r\n\r\n"),
    RejectCase("CL 5 5", head + "Content-Length: 5 5\r\n\r\nhello"),
    RejectCase("CL 0x10", head + "Content-Length: 0x10\r\n\r\n"),
    RejectCase("CL empty", head + "Content-Length:\r\n\r\n"),
    RejectCase("CL 19 digits", head + "Content-Length: 1000000000000000000\r\n\r\n"),
    RejectCase("TE gzip", head + "Transfer-Encoding: gzip\r\n\r\n", 501),
    RejectCase("TE gzip, chunked", head + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501),
    RejectCase("TE chunked, gzip", head + "Transfer-Encoding: chunked, gzip\r\n\r\n"),
    RejectCase("TE chunked twice in fields", head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
    RejectCase("TE chunked, chunked", head + "Transfer-Encoding: chunked, chunked\r\n\r\n"),
    RejectCase("TE empty", head + "Transfer-Encoding:\r\n\r\n"),
    RejectCase("TE empty element", head + "Transfer-Encoding: , chunked\r\n\r\n"),
    RejectCase("TE garbage", head + "Transfer-Encoding: \"chunked\"\r\n\r\n"),
    RejectCase("TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    // Field syntax
    RejectCase("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  continued\r\n\r\n"),
    RejectCase("obs-fold with tab", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\tcontinued\r\n\r\n"),
    RejectCase("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
    RejectCase("space before colon on TE", head + "Transfer-Encoding : chunked\r\n\r\n"),
    RejectCase("field without colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"),
    RejectCase("empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n"),
    RejectCase("Content_Length lookalike", head + "Content_Length: 5\r\n\r\nhello"),
    RejectCase("Transfer_Encoding lookalike", head + "Transfer_Encoding: chunked\r\n\r\n0\r\n\r\n"),
    RejectCase("bad char in name", "GET / HTTP/1.1\r\nHost: a\r\nX(A): x\r\n\r\n"),
    RejectCase("bare LF line endings", "GET / HTTP/1.1\nHost: a\n\n"),
    RejectCase("bare LF after field", "GET / HTTP/1.1\r\nHost: a\n\r\n"),
    RejectCase("bare LF at end", "GET / HTTP/1.1\r\nHost: a\r\n\n"),
    RejectCase("bare CR inside value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n"),
    RejectCase("bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("NUL in value", bytes: Array("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1".utf8) + [0] + Array("2\r\n\r\n".utf8)),
    RejectCase("DEL in value", bytes: Array("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1".utf8) + [0x7F] + Array("\r\n\r\n".utf8)),
    RejectCase("control in value", bytes: Array("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1".utf8) + [0x1B] + Array("\r\n\r\n".utf8)),
    // Host
    RejectCase("missing Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"),
    RejectCase("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    RejectCase("two equal Hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"),
    RejectCase("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n"),
    RejectCase("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
    RejectCase("Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"),
    RejectCase("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"),
    RejectCase("absolute-form Host mismatch", "GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n"),
    // Request line
    RejectCase("bad method chars", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("method with slash", "G/ET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("double space before version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"),
    RejectCase("tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n"),
    RejectCase("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
    RejectCase("lowercase http/1.1", "GET / http/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("HTTP/0.9 style", "GET /\r\n\r\n"),
    RejectCase("no version", "GET / \r\nHost: a\r\n\r\n"),
    RejectCase("CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"),
    RejectCase("lowercase connect", "connect / HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("authority-form", "GET a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"),
    RejectCase("other scheme", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("absolute-form userinfo", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("absolute-form empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("fragment in target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"),
    RejectCase("non-ASCII in target", bytes: Array("GET /".utf8) + [0xC3, 0xA9] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8)),
    RejectCase("too many empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    // Chunked body
    RejectCase("chunk size g", chunkedHead + "g\r\nx\r\n0\r\n\r\n"),
    RejectCase("chunk size -1", chunkedHead + "-1\r\n\r\n"),
    RejectCase("chunk size empty", chunkedHead + "\r\n\r\n"),
    RejectCase("chunk size 0x", chunkedHead + "0x5\r\nhello\r\n0\r\n\r\n"),
    RejectCase("chunk size 17 hex digits", chunkedHead + "10000000000000000\r\n"),
    RejectCase("chunk size 16 hex digits", chunkedHead + "0000000000000005\r\nhello\r\n0\r\n\r\n"),
    RejectCase("chunk size then space", chunkedHead + "5 \r\nhello\r\n0\r\n\r\n"),
    RejectCase("chunk size bare LF", chunkedHead + "5\nhello\r\n0\r\n\r\n"),
    RejectCase("chunk data missing CRLF", chunkedHead + "5\r\nhello0\r\n\r\n"),
    RejectCase("chunk data too long", chunkedHead + "5\r\nhello!\r\n0\r\n\r\n"),
    RejectCase("chunk data LF only", chunkedHead + "5\r\nhello\n0\r\n\r\n"),
    RejectCase("bad extension name", chunkedHead + "5;=x\r\nhello\r\n0\r\n\r\n"),
    RejectCase("bad extension value", chunkedHead + "5;a=b c\r\nhello\r\n0\r\n\r\n"),
    RejectCase("bad extension char", chunkedHead + "5;a@b\r\nhello\r\n0\r\n\r\n"),
    RejectCase("unterminated quoted extension", chunkedHead + "5;a=\"b\r\nhello\r\n0\r\n\r\n"),
    RejectCase("extension then space then CRLF", chunkedHead + "5;a \r\nhello\r\n0\r\n\r\n"),
    RejectCase("obs-fold in trailer", chunkedHead + "0\r\nX-T: 1\r\n 2\r\n\r\n"),
    RejectCase("bare LF in trailer", chunkedHead + "0\r\nX-T: 1\n\r\n"),
    RejectCase("space before colon in trailer", chunkedHead + "0\r\nX-T : 1\r\n\r\n"),
    // Limits
    RejectCase("431 head", "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "x", count: 300) + "\r\n\r\n", 431,
               limits: HTTP1Limits(maxHeaderBytes: 256, maxTargetBytes: 64)),
    RejectCase("431 without end of head", "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "x", count: 300), 431,
               limits: HTTP1Limits(maxHeaderBytes: 256, maxTargetBytes: 64)),
    RejectCase("431 head one over", "GET /abcd HTTP/1.1\r\nHost: a\r\n\r\n", 431,
               limits: HTTP1Limits(maxHeaderBytes: 30, maxTargetBytes: 64)),
    RejectCase("431 trailers", chunkedHead + "0\r\nX-T: " + String(repeating: "y", count: 300) + "\r\n\r\n", 431,
               limits: HTTP1Limits(maxHeaderBytes: 256, maxTargetBytes: 64)),
    RejectCase("414 target", "GET /" + String(repeating: "p", count: 100) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414,
               limits: HTTP1Limits(maxHeaderBytes: 4096, maxTargetBytes: 64)),
    RejectCase("414 target without end", "GET /" + String(repeating: "p", count: 100), 414,
               limits: HTTP1Limits(maxHeaderBytes: 4096, maxTargetBytes: 64)),
    RejectCase("414 target one over", "GET /abcd HTTP/1.1\r\nHost: a\r\n\r\n", 414,
               limits: HTTP1Limits(maxHeaderBytes: 4096, maxTargetBytes: 4)),
]

@Suite struct HTTP1RequestRejectTests {
    @Test(arguments: rejectCorpus)
    func rejected(_ c: RejectCase) {
        let (outcome, mismatches) = requestOutcome(bytes: c.bytes, limits: c.limits)
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(outcome.errorStatus == c.status, "\(outcome)")
        // Nothing of a rejected message may come out as a complete request.
        #expect(!outcome.events.contains("end"), "\(outcome)")
    }

    /// A valid first request is delivered even when the one pipelined behind it is rejected.
    @Test func pipelinedSmugglingAttempt() {
        let text = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd"
            + "GET /admin HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
        let (outcome, mismatches) = requestOutcome(text)
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(outcome.events.count == 3)
        #expect(outcome.errorStatus == 400)
    }
}
