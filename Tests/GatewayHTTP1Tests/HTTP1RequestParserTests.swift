import GatewayCore
import Testing
@testable import GatewayHTTP1

/// Accept cases: every message is fed whole, byte by byte and at seeded random splits, with the same events.
@Suite struct HTTP1RequestParserTests {
    private func accept(_ text: String, limits: HTTP1Limits = HTTP1Limits(),
                        sourceLocation: SourceLocation = #_sourceLocation) -> Outcome {
        let (outcome, mismatches) = requestOutcome(text, limits: limits)
        #expect(mismatches.isEmpty, "\(mismatches)", sourceLocation: sourceLocation)
        #expect(outcome.error == nil, "unexpected \(String(describing: outcome.error))", sourceLocation: sourceLocation)
        return outcome
    }

    @Test func simpleGet() {
        let o = accept("GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
        #expect(o.events == [
            "head GET /a/b?x=1 HTTP/1.1 authority=example.com framing=none keepAlive=true [Host=example.com,Accept=*/*]",
            "end",
        ])
    }

    @Test func postWithContentLength() {
        let o = accept("POST /submit HTTP/1.1\r\nHost: a:8080\r\nContent-Length: 11\r\n\r\nhello world")
        #expect(o.events == [
            "head POST /submit HTTP/1.1 authority=a:8080 framing=contentLength(11) keepAlive=true [Host=a:8080,Content-Length=11]",
            "body", "end",
        ])
        #expect(o.body == Array("hello world".utf8))
    }

    @Test func contentLengthZeroAndLeadingZeros() {
        let o = accept("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\nPUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 003\r\n\r\nabc")
        #expect(o.events.count == 5)
        #expect(o.events[2].contains("framing=contentLength(3)"))
        #expect(o.body == Array("abc".utf8))
    }

    @Test func chunkedWithExtensionsAndTrailers() {
        let o = accept("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n"
            + "6 ; a ; b = \"q\\\"s\" ;c=tok\r\n world\r\n"
            + "A\r\n0123456789\r\n"
            + "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n")
        #expect(o.events == [
            "head POST /up HTTP/1.1 authority=a framing=chunked keepAlive=true [Host=a,Transfer-Encoding=chunked]",
            "body", "trailers [X-Checksum=abc,X-Other=1]", "end",
        ])
        #expect(o.body == Array("hello world0123456789".utf8))
    }

    @Test func chunkedWithoutTrailersAndMixedCaseCoding() {
        let o = accept("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        #expect(o.events.count == 3)
        #expect(o.events[2] == "end")
        #expect(o.body == Array("abc".utf8))
    }

    @Test func threePipelinedRequests() {
        let o = accept("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"
            + "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n0\r\n\r\n")
        #expect(o.events.count == 8)
        #expect(o.events[0].hasPrefix("head GET /1 "))
        #expect(o.events[2].hasPrefix("head POST /2 "))
        #expect(o.events[5].hasPrefix("head POST /3 "))
        #expect(o.events[5].contains("keepAlive=false"))
        #expect(o.bodies == [Array("xyz".utf8), Array("hi".utf8)])
    }

    @Test func http10() {
        let o = accept("GET / HTTP/1.0\r\n\r\n")
        #expect(o.events == ["head GET / HTTP/1.0 authority=- framing=none keepAlive=false []", "end"])
        let k = accept("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: h\r\n\r\n")
        #expect(k.events[0].contains("keepAlive=true"))
        #expect(k.events[0].contains("authority=h"))
    }

    @Test func connectionListTokens() {
        let o = accept("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, , CLOSE\r\n\r\n")
        #expect(o.events[0].contains("keepAlive=false"))
    }

    @Test func absoluteFormBecomesOriginForm() {
        let o = accept("GET http://Example.com:8080/p/q?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n")
        #expect(o.events[0].hasPrefix("head GET /p/q?x=1 HTTP/1.1 authority=Example.com:8080 "))
        let bare = accept("GET https://example.com?x HTTP/1.1\r\nHost: example.com\r\n\r\n")
        #expect(bare.events[0].hasPrefix("head GET /?x HTTP/1.1 authority=example.com "))
        let noQuery = accept("GET http://example.com HTTP/1.0\r\n\r\n")
        #expect(noQuery.events[0].hasPrefix("head GET / HTTP/1.0 authority=example.com "))
    }

    @Test func optionsAsterisk() {
        let o = accept("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(o.events[0].hasPrefix("head OPTIONS * HTTP/1.1 "))
    }

    @Test func obsTextAndTabsInValue() {
        var bytes = Array("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf".utf8)
        bytes += [0xC3, 0xA9, 0x09, 0x20, 0x78, 0x20, 0x09]
        bytes += Array("\r\n\r\n".utf8)
        let (o, mismatches) = requestOutcome(bytes: bytes)
        #expect(mismatches.isEmpty)
        #expect(o.error == nil)
        #expect(o.events[0].contains("X-Name=café\t x]"))
    }

    @Test func expectHeaderPassesThrough() {
        let o = accept("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok")
        #expect(o.events[0].contains("Expect=100-continue"))
        #expect(o.body == Array("ok".utf8))
    }

    @Test func leadingEmptyLinesAreSkipped() {
        let o = accept("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(o.events.count == 2)
    }

    @Test func emptyValueAndOWS() {
        let o = accept("GET / HTTP/1.1\r\nHost:a\r\nX-Empty:\r\nX-Pad: \t v \t\r\n\r\n")
        #expect(o.events[0].hasSuffix("[Host=a,X-Empty=,X-Pad=v]"))
    }

    @Test func oneMegabyteBody() {
        let size = 1 << 20
        var bytes = Array("POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: \(size)\r\n\r\n".utf8)
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        bytes += body
        for feed in Feed.allCases {
            let o = runRequests(feed.chunks(bytes))
            #expect(o.error == nil, "\(feed)")
            #expect(o.events.count == 3, "\(feed)")
            #expect(o.body == body, "\(feed)")
        }
    }

    @Test func oneMegabyteChunkedBody() {
        var body: [UInt8] = []
        var bytes = Array("POST /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for i in 0..<64 {
            let chunk = [UInt8](repeating: UInt8(i), count: 16384)
            HTTP1Serializer.writeChunkHeader(size: chunk.count, into: &bytes)
            bytes += chunk + HTTP1Serializer.chunkTerminator
            body += chunk
        }
        HTTP1Serializer.writeLastChunk(trailers: nil, into: &bytes)
        for feed in [Feed.whole, .randomSplits] {
            let o = runRequests(feed.chunks(bytes))
            #expect(o.error == nil, "\(feed)")
            #expect(o.body == body, "\(feed)")
            #expect(o.events.last == "end")
        }
    }

    @Test func headersPointIntoOneStorage() throws {
        let text = "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\r\n"
        var parser = HTTP1RequestParser(limits: HTTP1Limits())
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { raw in Result { () throws(HTTP1ParseError) in try parser.parse(raw) } }
        guard case .success(let (consumed, event)) = result, case .head(let head)? = event else {
            Issue.record("no head: \(result)")
            return
        }
        #expect(consumed == bytes.count)
        #expect(head.headers.storage == bytes)
        #expect(head.headers.first(named: "x-a") == "1")
    }

    @Test func idleAndPartialHeadStates() {
        var parser = HTTP1RequestParser(limits: HTTP1Limits())
        #expect(parser.isIdle && !parser.hasPartialHead)
        let part = Array("GET / HT".utf8)
        _ = part.withUnsafeBytes { raw in Result { () throws(HTTP1ParseError) in try parser.parse(raw) } }
        #expect(!parser.isIdle && parser.hasPartialHead)
        let rest = Array("TP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n".utf8)
        _ = rest.withUnsafeBytes { raw in Result { () throws(HTTP1ParseError) in try parser.parse(raw) } }
        #expect(!parser.isIdle && !parser.hasPartialHead)
        let body: [UInt8] = [0x41]
        _ = body.withUnsafeBytes { raw in Result { () throws(HTTP1ParseError) in try parser.parse(raw) } }
        let end = body.withUnsafeBytes { raw in Result { () throws(HTTP1ParseError) in try parser.parse(UnsafeRawBufferPointer(rebasing: raw[1...])) } }
        guard case .success(let (_, e)) = end, case .end? = e else {
            Issue.record("expected end, got \(end)")
            return
        }
        #expect(parser.isIdle)
    }

    @Test func errorIsSticky() {
        var parser = HTTP1RequestParser(limits: HTTP1Limits())
        let bad = Array("GET / HTTP/1.1\r\nHost : a\r\n\r\n".utf8)
        let good = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        let first = bad.withUnsafeBytes { raw in Result { () throws(HTTP1ParseError) in try parser.parse(raw) } }
        let second = good.withUnsafeBytes { raw in Result { () throws(HTTP1ParseError) in try parser.parse(raw) } }
        guard case .failure(let e1) = first, case .failure(let e2) = second else {
            Issue.record("expected two failures: \(first) \(second)")
            return
        }
        #expect(e1 == e2)
        #expect(e1.status == 400)
    }

    @Test func limitsAtTheBoundary() {
        let text = "GET /abcd HTTP/1.1\r\nHost: a\r\n\r\n"
        let exact = HTTP1Limits(maxHeaderBytes: text.utf8.count, maxTargetBytes: 5)
        #expect(accept(text, limits: exact).events.count == 2)
        // A chunked body still ends when the head used the whole budget (the empty trailer section is free).
        let chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        let full = HTTP1Limits(maxHeaderBytes: chunked.utf8.count, maxTargetBytes: 5)
        #expect(accept(chunked + "1\r\nx\r\n0\r\n\r\n", limits: full).events.last == "end")
    }
}
