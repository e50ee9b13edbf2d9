import GatewayCore

/// A validated request line: `method SP request-target SP HTTP-version`, exactly one SP between the parts.
struct RequestLine {
    var method: String
    /// Origin-form path and query (absolute-form is reduced to it), or `*`.
    var target: String
    var version: HTTPVersion
    /// The authority of an absolute-form target, as a range of the head block.
    var authority: Range<Int>?

    init(_ s: UnsafeBufferPointer<UInt8>, end: Int) throws(HTTP1ParseError) {
        var i = 0
        while i < end && s[i] != ASCIIByte.sp {
            guard ASCII.isTokenChar(s[i]) else { throw .badRequest("invalid method") }
            i += 1
        }
        guard i > 0 else { throw .badRequest("empty method") }
        guard i < end else { throw .badRequest("request line without target") }
        let methodRange = 0..<i
        let ts = i + 1
        var te = ts
        while te < end && s[te] != ASCIIByte.sp { te += 1 }
        guard te > ts else { throw .badRequest("empty request target") }
        guard te < end else { throw .badRequest("request line without version") }
        version = try Self.parseVersion(s, te + 1, end)

        // Any case: a backend that upper-cases methods must not see a tunnel request.
        if ASCII.equalsLower(s, methodRange, "connect") {
            throw .badRequest("CONNECT is not supported")
        }
        method = String(decoding: UnsafeBufferPointer(rebasing: s[methodRange]), as: UTF8.self)

        let first = s[ts]
        if first == ASCIIByte.slash {
            try Self.checkTargetBytes(s, ts..<te)
            target = String(decoding: UnsafeBufferPointer(rebasing: s[ts..<te]), as: UTF8.self)
            authority = nil
        } else if te - ts == 1 && first == UInt8(ascii: "*") {
            guard Self.isExactly(s, methodRange, "OPTIONS") else { throw .badRequest("asterisk-form without OPTIONS") }
            target = "*"
            authority = nil
        } else {
            (target, authority) = try Self.parseAbsoluteForm(s, ts..<te)
        }
    }

    private static func parseVersion(_ s: UnsafeBufferPointer<UInt8>, _ vs: Int, _ end: Int) throws(HTTP1ParseError) -> HTTPVersion {
        guard end - vs == 8, isExactly(s, vs..<(vs + 7), "HTTP/1.") else { throw .badRequest("invalid HTTP version") }
        switch s[vs + 7] {
        case UInt8(ascii: "1"): return .http1_1
        case UInt8(ascii: "0"): return .http1_0
        default: throw .badRequest("unsupported HTTP version")
        }
    }

    /// Visible ASCII only, and no `#`: user agents never send fragments, so one is a sign of tampering.
    private static func checkTargetBytes(_ s: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws(HTTP1ParseError) {
        for i in r {
            let b = s[i]
            guard b >= 0x21 && b <= 0x7E && b != UInt8(ascii: "#") else { throw .badRequest("invalid character in request target") }
        }
    }

    /// `http(s)://authority[/path][?query]` -> origin-form target (at least `/`) plus the authority range.
    /// Anything else (authority-form, other schemes, userinfo) is refused: the gateway is not a forward proxy.
    private static func parseAbsoluteForm(_ s: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws(HTTP1ParseError) -> (String, Range<Int>) {
        try checkTargetBytes(s, r)
        var i = r.lowerBound
        if r.count > 7 && ASCII.equalsLower(s, i..<(i + 7), "http://") {
            i += 7
        } else if r.count > 8 && ASCII.equalsLower(s, i..<(i + 8), "https://") {
            i += 8
        } else {
            throw .badRequest("unsupported request target form")
        }
        let authorityStart = i
        while i < r.upperBound && s[i] != ASCIIByte.slash && s[i] != UInt8(ascii: "?") { i += 1 }
        let authority = authorityStart..<i
        guard FramingFields.isPlausibleAuthority(s, authority) else { throw .badRequest("invalid authority in request target") }
        var target = ""
        target.reserveCapacity(r.upperBound - i + 1)
        if i == r.upperBound || s[i] == UInt8(ascii: "?") { target.append("/") }
        target.append(String(decoding: UnsafeBufferPointer(rebasing: s[i..<r.upperBound]), as: UTF8.self))
        return (target, authority)
    }

    /// Case-sensitive comparison with a literal (methods are case-sensitive).
    static func isExactly(_ s: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ literal: StaticString) -> Bool {
        guard r.count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        var j = 0
        for i in r {
            if s[i] != l[j] { return false }
            j += 1
        }
        return true
    }
}
