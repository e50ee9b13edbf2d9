import GatewayCore
import Testing
@testable import GatewayHTTP1

/// Response cases: fed whole, byte by byte and at random splits; the upstream then closes.
@Suite struct HTTP1ResponseParserTests {
    private func parse(_ text: String, method: String = "GET", sourceLocation: SourceLocation = #_sourceLocation) -> Outcome {
        let (outcome, mismatches) = responseOutcome(text, method: method)
        #expect(mismatches.isEmpty, "\(mismatches)", sourceLocation: sourceLocation)
        return outcome
    }

    @Test func continueThenOK() {
        let o = parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
        #expect(o.error == nil)
        #expect(o.events == [
            "head HTTP/1.1 100 Continue framing=none keepAlive=true []",
            "head HTTP/1.1 200 OK framing=contentLength(2) keepAlive=true [Content-Length=2]",
            "body", "end",
        ])
        #expect(o.body == Array("hi".utf8))
    }

    @Test func switchingProtocolsEndsParsing() {
        let o = parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u{1}\u{2}frame bytes")
        #expect(o.error == nil)
        #expect(o.events == [
            "head HTTP/1.1 101 Switching Protocols framing=none keepAlive=true [Upgrade=websocket,Connection=Upgrade]",
            "end",
        ])
        #expect(o.bodies.isEmpty)
    }

    /// The event-through-inout form the upstream connection uses, and the 101 flag it reads instead of the head.
    @Test func eventHandedOverInPlaceAndSwitchFlag() throws {
        for (text, switched) in [("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nxy", true),
                                 ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nxy", false)] {
            var parser = HTTP1ResponseParser(limits: HTTP1Limits())
            parser.expectResponse(toMethod: "GET")
            #expect(!parser.switchedProtocols)
            let bytes = Array(text.utf8)
            var event: HTTP1ResponseEvent?
            let used = try bytes.withUnsafeBytes { raw throws(HTTP1ParseError) in try parser.parse(raw, event: &event) }
            guard case .head(let head)? = event else {
                Issue.record("expected a head, got \(String(describing: event))")
                continue
            }
            #expect(used == bytes.count - 2)
            #expect(head.status == (switched ? 101 : 200))
            #expect(parser.switchedProtocols == switched)
        }
    }

    @Test func headResponseHasNoBody() {
        let o = parse("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", method: "HEAD")
        #expect(o.error == nil)
        #expect(o.events == ["head HTTP/1.1 200 OK framing=none keepAlive=true [Content-Length=1234]", "end"])
    }

    @Test func noContentAndNotModified() {
        let a = parse("HTTP/1.1 204 No Content\r\nX: y\r\n\r\n")
        #expect(a.events == ["head HTTP/1.1 204 No Content framing=none keepAlive=true [X=y]", "end"])
        let b = parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"x\"\r\n\r\n")
        #expect(b.events.count == 2)
        #expect(b.events[0].contains("framing=none"))
        #expect(b.error == nil)
    }

    @Test func closeDelimitedBody() {
        let o = parse("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until close")
        #expect(o.error == nil)
        #expect(o.events == [
            "head HTTP/1.0 200 OK framing=untilClose keepAlive=false [Content-Type=text/plain]",
            "body", "closed:", "end",
        ])
        #expect(o.body == Array("all of this until close".utf8))
    }

    @Test func truncatedContentLengthBodyIsAnError() {
        let o = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
        #expect(o.errorStatus == 400)
        #expect(!o.events.contains("end"))
    }

    @Test func truncatedHeadIsAnError() {
        let o = parse("HTTP/1.1 200 OK\r\nContent-Le")
        #expect(o.errorStatus == 400)
    }

    @Test func truncatedChunkedBodyIsAnError() {
        let o = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        #expect(o.errorStatus == 400)
    }

    @Test func cleanCloseBetweenResponses() {
        let o = parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(o.error == nil)
        #expect(o.events.last == "end")
        #expect(!o.events.contains("closed:"))
    }

    @Test func chunkedWithTrailers() {
        let o = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Digest: abc\r\n\r\n")
        #expect(o.error == nil)
        #expect(o.events == [
            "head HTTP/1.1 200 OK framing=chunked keepAlive=true [Transfer-Encoding=chunked]",
            "body", "trailers [X-Digest=abc]", "end",
        ])
        #expect(o.body == Array("Wikipedia".utf8))
    }

    @Test func emptyReasonAndMissingReasonSpace() {
        let a = parse("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n")
        #expect(a.error == nil)
        #expect(a.events.first == "head HTTP/1.1 200  framing=contentLength(0) keepAlive=true [Content-Length=0]")
        let b = parse("HTTP/1.1 404\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(b.error == nil)
        #expect(b.events.first?.contains("keepAlive=false") == true)
    }

    @Test func keepAliveOnHTTP10Response() {
        let o = parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx")
        #expect(o.events.first?.contains("keepAlive=true") == true)
    }

    static let badResponses: [String] = [
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxx",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: 1\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
        "HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "HTTP/1.1 600 High\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "\r\nHTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
    ]

    @Test(arguments: badResponses)
    func rejected(_ text: String) {
        let o = parse(text)
        #expect(o.error != nil, "\(o)")
        #expect(!o.events.contains("end"), "\(o)")
    }

    @Test func headerLimitApplies() {
        var parser = HTTP1ResponseParser(limits: HTTP1Limits(maxHeaderBytes: 64))
        parser.expectResponse(toMethod: "GET")
        let bytes = Array(("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 100)).utf8)
        let result = bytes.withUnsafeBytes { raw in Result { () throws(HTTP1ParseError) in try parser.parse(raw) } }
        guard case .failure(let error) = result else {
            Issue.record("expected 431, got \(result)")
            return
        }
        #expect(error == .headersTooLarge)
    }

    @Test func keepAliveConnectionParsesSecondResponse() {
        let o = parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nb")
        #expect(o.error == nil)
        #expect(o.events.count == 6)
        #expect(o.bodies == [[0x61], [0x62]])
    }

    /// Feeds `chunks` to `parser` and returns the first response head (nil on error or when none completed).
    private func head(_ parser: inout HTTP1ResponseParser, _ chunks: [String]) -> HTTPResponseHead? {
        parser.expectResponse(toMethod: "GET")
        var found: HTTPResponseHead?
        for chunk in chunks {
            let bytes = Array(chunk.utf8)
            var offset = 0
            while true {
                let step = bytes.withUnsafeBytes { raw in
                    Result { () throws(HTTP1ParseError) in try parser.parse(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
                }
                guard case .success(let (used, event)) = step else { return nil }
                offset += used
                if case .head(let h)? = event, found == nil { found = h }
                if event == nil && used == 0 { break }
            }
        }
        return found
    }

    @Test func recycledFieldsServeLaterResponsesCleanly() {
        var parser = HTTP1ResponseParser(limits: HTTP1Limits())
        let big = String(repeating: "b", count: 4000)
        let cases: [(chunks: [String], fields: [String])] = [
            (["HTTP/1.1 200 OK\r\nX-Big: \(big)\r\nContent-Length: 0\r\n\r\n"], ["X-Big=\(big)", "Content-Length=0"]),
            (["HTTP/1.1 200 OK\r\nA: 1\r\nContent-Length: 0\r\n\r\n"], ["A=1", "Content-Length=0"]),
            // Split across reads: the partial head is kept in the recycled array.
            (["HTTP/1.1 404 Not Found\r\nB: tw", "o\r\nContent-Length: 0\r\n\r\n"], ["B=two", "Content-Length=0"]),
            (["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"], ["Content-Length=0"]),
        ]
        var previousCapacity = 0
        for (n, c) in cases.enumerated() {
            guard var h = head(&parser, c.chunks) else {
                Issue.record("case \(n): no head")
                return
            }
            #expect(h.headers.pairs.map { "\($0.name)=\($0.value)" } == c.fields, "case \(n)")
            // The 4 KB head's memory serves the small heads after it.
            if n > 0 { #expect(h.headers.storageCapacity >= min(previousCapacity, 4000), "case \(n)") }
            previousCapacity = h.headers.storageCapacity
            parser.recycle(h.headers.take())
        }
    }
}
