import GatewayCore

extension HTTP1RequestParser {
    /// Turns a complete head block into a validated `HTTPRequestHead` whose headers point into the block.
    static func parseHead(_ block: [UInt8]) throws(HTTP1ParseError) -> HTTPRequestHead {
        // Built inside around headers handed in by value (see HTTP1ResponseParser.parseHead): no copy on the way out.
        try block.withUnsafeBufferPointer { (s) throws(HTTP1ParseError) -> HTTPRequestHead in
            try parseHead(s, headers: HTTPHeaders(storage: block))
        }
    }

    private static func parseHead(_ s: UnsafeBufferPointer<UInt8>, headers: consuming HTTPHeaders) throws(HTTP1ParseError) -> HTTPRequestHead {
        let lineEnd = FieldLines.lineEnd(s, from: 0)
        let line = try RequestLine(s, end: lineEnd)
        var framing = FramingFields()
        try FieldLines.parse(s, from: lineEnd + 2, into: &headers, framing: &framing)

        let authority: String
        if let targetAuthority = line.authority {
            // Absolute-form: the target's authority wins (RFC 9112 3.2.2); a Host that disagrees is ambiguous.
            if let host = framing.host, !ASCII.equalsIgnoringCase(UnsafeBufferPointer(rebasing: s[host]), UnsafeBufferPointer(rebasing: s[targetAuthority])) {
                throw .badRequest("Host differs from absolute-form authority")
            }
            authority = String(decoding: UnsafeBufferPointer(rebasing: s[targetAuthority]), as: UTF8.self)
        } else if let host = framing.host {
            authority = String(decoding: UnsafeBufferPointer(rebasing: s[host]), as: UTF8.self)
        } else {
            authority = ""
        }
        if line.version == .http1_1 && framing.hostCount == 0 { throw .badRequest("missing Host") }
        if let host = framing.host, !FramingFields.isPlausibleAuthority(s, host) { throw .badRequest("invalid Host") }

        let bodyFraming: BodyFraming
        if framing.hasTransferEncoding {
            if line.version == .http1_0 { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            if framing.contentLengthCount > 0 { throw .badRequest("Content-Length with Transfer-Encoding") }
            if framing.chunkedCount > 1 { throw .badRequest("chunked applied more than once") }
            if framing.chunkedCount == 1 && !framing.lastCodingIsChunked { throw .badRequest("chunked is not the final transfer coding") }
            if let other = framing.otherCoding {
                throw .notImplemented("transfer coding " + String(decoding: UnsafeBufferPointer(rebasing: s[other]), as: UTF8.self))
            }
            bodyFraming = .chunked
        } else if framing.contentLengthCount > 0 {
            bodyFraming = .contentLength(framing.contentLength)
        } else {
            bodyFraming = .none
        }

        return HTTPRequestHead(method: line.method, target: line.target, version: line.version, headers: headers,
                               authority: authority.isEmpty ? nil : authority,
                               framing: bodyFraming, keepAlive: framing.keepAlive(line.version))
    }
}
