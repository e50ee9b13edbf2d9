import GatewayCore

/// Parses the field lines of a complete head block (already free of bare CR and bare LF) into `HTTPHeaders`.
enum FieldLines {
    /// The index of the CR ending the line that starts at `from`; the block guarantees CRLF after it.
    @inline(__always)
    static func lineEnd(_ s: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var i = from
        while s[i] != ASCIIByte.cr { i += 1 }
        return i
    }

    /// Parses field lines from `from` up to the empty line, appending them to `headers` and showing them to `framing`.
    static func parse(_ s: UnsafeBufferPointer<UInt8>, from: Int, into headers: inout HTTPHeaders,
                      framing: inout FramingFields) throws(HTTP1ParseError) {
        var ls = from
        while s[ls] != ASCIIByte.cr {
            let (name, value, le) = try parseLine(s, ls)
            headers.appendIndexed(name: name, value: value)
            try framing.observe(s, name: name, value: value)
            ls = le + 2
        }
    }

    /// Skips whole 8-byte words of `s` from `from` that are all plain field-value bytes (0x20-0x7E or 0x80-0xFF);
    /// returns where a word holding anything else (a CR, a tab, a control byte, DEL) begins, or where fewer than
    /// 8 bytes remain. The byte-by-byte check takes over from there.
    @inline(__always)
    static func skipPlainValueBytes(_ s: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        guard let base = s.baseAddress else { return from }
        var i = from
        while i + 8 <= s.count {
            let x = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            // A control byte (below 0x20, tab included) or DEL; bytes from 0x80 up never match.
            if ByteWords.below(x, 0x20) | ByteWords.matching(x, 0x7F) != 0 { break }
            i += 8
        }
        return i
    }

    /// Splits the field line starting at `ls` into name and OWS-trimmed value ranges, validating both; also returns
    /// the index of the CR that ends it. One pass: the line's end is found by the value check itself.
    static func parseLine(_ s: UnsafeBufferPointer<UInt8>, _ ls: Int) throws(HTTP1ParseError) -> (Range<Int>, Range<Int>, Int) {
        if ASCIIByte.isWhitespace(s[ls]) { throw .badRequest("obs-fold or leading whitespace in field line") }
        var c = ls
        while s[c] != ASCIIByte.colon {
            let b = s[c]
            if b == ASCIIByte.cr { throw .badRequest("field line without colon") }
            guard ASCII.isTokenChar(b) else {
                throw .badRequest(ASCIIByte.isWhitespace(b) ? "whitespace in field name" : "invalid character in field name")
            }
            c += 1
        }
        guard c > ls else { throw .badRequest("empty field name") }
        // Field-value bytes include SP and HTAB and exclude CR, so this stops at the line's end or at a bad byte.
        var le = skipPlainValueBytes(s, from: c + 1)
        while ASCII.isFieldValueChar(s[le]) { le += 1 }
        guard s[le] == ASCIIByte.cr else { throw .badRequest("control character in field value") }
        var vs = c + 1
        while vs < le && ASCIIByte.isWhitespace(s[vs]) { vs += 1 }
        var ve = le
        while ve > vs && ASCIIByte.isWhitespace(s[ve - 1]) { ve -= 1 }
        return (ls..<c, vs..<ve, le)
    }
}
