import GatewayCore

extension HTTP1ResponseParser {
    /// Turns a complete head block into a validated `HTTPResponseHead` whose headers point into the block.
    ///
    /// `framing` says what follows on the wire: `.none` for 1xx, 204, 304 and responses to HEAD
    /// (their Content-Length field is kept in `headers` for the client).
    /// The memory of `spare`'s entry array is taken (`spare` is left empty).
    static func parseHead(_ block: [UInt8], reusing spare: inout HTTPHeaders,
                          requestWasHead: Bool) throws(HTTP1ParseError) -> HTTPResponseHead {
        // The head is built inside, around headers handed in by value: a head returned out of the closure and then
        // given its headers was copied on the way (a retain and a release per field). The spare is swapped out, not
        // captured by value: a captured copy would share the entry array, and the first append would copy it.
        try block.withUnsafeBufferPointer { (s) throws(HTTP1ParseError) -> HTTPResponseHead in
            var entries = HTTPHeaders()
            swap(&entries, &spare)
            return try parseHead(s, headers: HTTPHeaders(storage: block, reusingEntriesOf: consume entries),
                                 requestWasHead: requestWasHead)
        }
    }

    private static func parseHead(_ s: UnsafeBufferPointer<UInt8>, headers: consuming HTTPHeaders,
                                  requestWasHead: Bool) throws(HTTP1ParseError) -> HTTPResponseHead {
        let end = FieldLines.lineEnd(s, from: 0)
        // `HTTP/1.x DDD` then either the end of the line or SP and a reason (possibly empty).
        guard end >= 12, RequestLine.isExactly(s, 0..<7, "HTTP/1."), s[8] == ASCIIByte.sp else {
            throw .badRequest("invalid status line")
        }
        let version: HTTPVersion
        switch s[7] {
        case UInt8(ascii: "1"): version = .http1_1
        case UInt8(ascii: "0"): version = .http1_0
        default: throw .badRequest("unsupported HTTP version")
        }
        var status = 0
        for i in 9..<12 {
            let b = s[i]
            guard b >= 0x30 && b <= 0x39 else { throw .badRequest("invalid status code") }
            status = status * 10 + Int(b - 0x30)
        }
        guard status >= 100 && status <= 599 else { throw .badRequest("invalid status code") }
        var reason = ""
        if end > 12 {
            guard s[12] == ASCIIByte.sp else { throw .badRequest("invalid status line") }
            for i in 13..<end {
                guard ASCII.isFieldValueChar(s[i]) else { throw .badRequest("invalid character in reason phrase") }
            }
            reason = String(decoding: UnsafeBufferPointer(rebasing: s[13..<end]), as: UTF8.self)
        }

        var framing = FramingFields()
        try FieldLines.parse(s, from: end + 2, into: &headers, framing: &framing)

        if framing.hasTransferEncoding {
            if version == .http1_0 { throw .badRequest("Transfer-Encoding in an HTTP/1.0 response") }
            if framing.contentLengthCount > 0 { throw .badRequest("Content-Length with Transfer-Encoding") }
            // RFC 9112 would read such a body until close; a proxy cannot re-frame it faithfully, so refuse.
            if framing.chunkedCount != 1 || !framing.lastCodingIsChunked || framing.otherCoding != nil {
                throw .badRequest("unsupported Transfer-Encoding in response")
            }
        }
        var keepAlive = framing.keepAlive(version)
        let bodyFraming: BodyFraming
        if status < 200 || status == 204 || status == 304 || requestWasHead {
            bodyFraming = .none
        } else if framing.hasTransferEncoding {
            bodyFraming = .chunked
        } else if framing.contentLengthCount > 0 {
            bodyFraming = .contentLength(framing.contentLength)
        } else {
            bodyFraming = .untilClose
            keepAlive = false
        }
        return HTTPResponseHead(status: status, reason: reason, version: version, headers: headers,
                                framing: bodyFraming, keepAlive: keepAlive)
    }
}
