import GatewayCore

/// What the framing-relevant fields (Host, Content-Length, Transfer-Encoding, Connection) of one head say.
///
/// Filled while the fields are parsed, so the head is walked once; syntax errors are thrown on sight.
struct FramingFields: Sendable {
    var hostCount = 0
    var host: Range<Int>?
    var contentLengthCount = 0
    var contentLength = 0
    var hasTransferEncoding = false
    var chunkedCount = 0
    var lastCodingIsChunked = false
    var otherCoding: Range<Int>?
    var connectionClose = false
    var connectionKeepAlive = false

    /// Looks at one field; names are matched by length first so most fields cost one switch.
    mutating func observe(_ s: UnsafeBufferPointer<UInt8>, name: Range<Int>, value: Range<Int>) throws(HTTP1ParseError) {
        switch name.count {
        case 4 where ASCII.equalsLower(s, name, "host"):
            hostCount += 1
            if hostCount > 1 { throw .badRequest("repeated Host") }
            host = value
        case 10 where ASCII.equalsLower(s, name, "connection"):
            observeConnection(s, value)
        case 14 where ASCII.equalsLower(s, name, "content-length"):
            contentLengthCount += 1
            if contentLengthCount > 1 { throw .badRequest("repeated Content-Length") }
            contentLength = try Self.parseContentLength(s, value)
        case 17 where ASCII.equalsLower(s, name, "transfer-encoding"):
            try observeTransferEncoding(s, value)
        // CGI-style backends (Rack, PHP) read `_` as `-`: a lookalike could frame the body for them.
        case 14 where ASCII.equalsLower(s, name, "content_length"),
             17 where ASCII.equalsLower(s, name, "transfer_encoding"):
            throw .badRequest("underscore spelling of a framing field")
        default:
            break
        }
    }

    /// `1*DIGIT`, at most 18 digits so it cannot overflow; anything else (sign, list, hex, spaces) is refused.
    static func parseContentLength(_ s: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) throws(HTTP1ParseError) -> Int {
        guard !value.isEmpty, value.count <= 18 else { throw .badRequest("malformed Content-Length") }
        var n = 0
        for i in value {
            let b = s[i]
            guard b >= 0x30 && b <= 0x39 else { throw .badRequest("malformed Content-Length") }
            n = n * 10 + Int(b - 0x30)
        }
        return n
    }

    private mutating func observeTransferEncoding(_ s: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) throws(HTTP1ParseError) {
        hasTransferEncoding = true
        var elementsSeen = 0
        try Self.forEachElement(s, value, allowEmpty: false) { (e: Range<Int>) throws(HTTP1ParseError) in
            elementsSeen += 1
            if e.count == 7 && ASCII.equalsLower(s, e, "chunked") {
                chunkedCount += 1
                lastCodingIsChunked = true
            } else if ASCII.isTokenChar(s[e.lowerBound]) {
                lastCodingIsChunked = false
                if otherCoding == nil { otherCoding = e }
            } else {
                throw .badRequest("malformed Transfer-Encoding")
            }
        }
        if elementsSeen == 0 { throw .badRequest("empty Transfer-Encoding") }
    }

    private mutating func observeConnection(_ s: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) {
        // Empty elements are harmless here; unknown tokens name hop-by-hop fields for the proxy to drop.
        try? Self.forEachElement(s, value, allowEmpty: true) { (e: Range<Int>) throws(HTTP1ParseError) in
            if e.count == 5 && ASCII.equalsLower(s, e, "close") { connectionClose = true }
            if e.count == 10 && ASCII.equalsLower(s, e, "keep-alive") { connectionKeepAlive = true }
        }
    }

    /// Calls `body` with each OWS-trimmed element of a comma list; empty elements are skipped or refused.
    static func forEachElement(_ s: UnsafeBufferPointer<UInt8>, _ value: Range<Int>, allowEmpty: Bool,
                               _ body: (Range<Int>) throws(HTTP1ParseError) -> Void) throws(HTTP1ParseError) {
        var i = value.lowerBound
        let end = value.upperBound
        if value.isEmpty { return }
        while true {
            var es = i
            while i < end && s[i] != ASCIIByte.comma { i += 1 }
            var ee = i
            while es < ee && ASCIIByte.isWhitespace(s[es]) { es += 1 }
            while ee > es && ASCIIByte.isWhitespace(s[ee - 1]) { ee -= 1 }
            if es == ee {
                if !allowEmpty { throw .badRequest("empty list element") }
            } else {
                try body(es..<ee)
            }
            if i >= end { return }
            i += 1
        }
    }

    /// Whether `s[range]` is a plausible authority: non-empty reg-name / IP-literal / port bytes only.
    static func isPlausibleAuthority(_ s: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return false }
        for i in range {
            switch s[i] {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: continue
            // unreserved, sub-delims, pct-encoding, port colon, IP-literal brackets
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
                 UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
                 UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
                 UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: "%"),
                 UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
                continue
            default:
                return false
            }
        }
        return true
    }

    /// Keep-alive as HTTP/1.1 (default on unless `close`) or HTTP/1.0 (only with `keep-alive`) reads it.
    func keepAlive(_ version: HTTPVersion) -> Bool {
        if connectionClose { return false }
        return version == .http1_1 || connectionKeepAlive
    }
}
