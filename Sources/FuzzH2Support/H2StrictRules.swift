/// The request rules of RFC 9113 8.2 and 8.3 (and RFC 9110 field syntax), written here from the RFC, apart from the
/// session and nghttp2: a header block that breaks one of them must never reach the upstream side.
enum H2StrictRules {
    /// Why the request block `fields` is malformed, or nil when it is a valid request head.
    static func requestProblem(_ fields: [H2Field], maxHeaderListSize: Int, connectProtocol: Bool) -> String? {
        var seenRegular = false
        var pseudo: [String: [UInt8]] = [:]
        var size = 0
        var contentLength: [UInt8]?
        var hosts = 0
        for f in fields {
            size += f.name.count + f.value.count + 32
            if f.name.first == UInt8(ascii: ":") {
                let name = f.nameString
                guard [":method", ":scheme", ":path", ":authority", ":protocol"].contains(name) else {
                    return "unknown pseudo-header \(name)"
                }
                if seenRegular { return "pseudo-header \(name) after a regular field" }
                if pseudo[name] != nil { return "pseudo-header \(name) twice" }
                pseudo[name] = f.value
                continue
            }
            seenRegular = true
            if let p = fieldProblem(f) { return p }
            switch f.nameString {
            case "content-length":
                guard !f.value.isEmpty, f.value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return "content-length not digits" }
                if let cl = contentLength, cl != f.value { return "two different content-length values" }
                contentLength = f.value
            case "host":
                hosts += 1
                if hosts > 1 { return "host twice" }
            default:
                break
            }
        }
        if size > maxHeaderListSize { return "header list of \(size) bytes over \(maxHeaderListSize)" }
        guard let method = pseudo[":method"] else { return "no :method" }
        guard !method.isEmpty, method.allSatisfy(isTchar) else { return "bad :method" }
        if let authority = pseudo[":authority"] {
            // RFC 3986 authority: no whitespace, controls, or characters that end it (/ ? #).
            guard !authority.isEmpty, authority.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != 0x2f && $0 != 0x3f && $0 != 0x23 }) else {
                return "bad :authority"
            }
        }
        let isConnect = method == Array("CONNECT".utf8)
        if let proto = pseudo[":protocol"] {
            guard connectProtocol, isConnect else { return ":protocol outside extended CONNECT" }
            guard !proto.isEmpty, proto.allSatisfy(isTchar) else { return "bad :protocol" }
        }
        if isConnect && pseudo[":protocol"] == nil {
            // RFC 9113 8.5: authority only.
            guard pseudo[":authority"] != nil else { return "CONNECT without :authority" }
            guard pseudo[":scheme"] == nil, pseudo[":path"] == nil else { return "CONNECT with :scheme or :path" }
            return nil
        }
        if isConnect && pseudo[":authority"] == nil { return "extended CONNECT without :authority" }
        guard let scheme = pseudo[":scheme"] else { return "no :scheme" }
        // RFC 3986 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
        guard let s0 = scheme.first, isAlpha(s0),
              scheme.allSatisfy({ isAlpha($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2b || $0 == 0x2d || $0 == 0x2e }) else {
            return "bad :scheme"
        }
        guard let path = pseudo[":path"] else { return "no :path" }
        guard let p0 = path.first else { return "empty :path" }
        if path == [UInt8(ascii: "*")] {
            guard method == Array("OPTIONS".utf8) else { return ":path * outside OPTIONS" }
        } else {
            guard p0 == UInt8(ascii: "/") else { return ":path not origin-form" }
        }
        // Visible ASCII only, and no fragment: what an HTTP/1.1 request-target may carry.
        guard path.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != 0x23 }) else { return "bad byte in :path" }
        return nil
    }

    /// Why a trailer block is malformed, or nil.
    static func trailersProblem(_ fields: [H2Field], maxHeaderListSize: Int) -> String? {
        var size = 0
        for f in fields {
            size += f.name.count + f.value.count + 32
            if f.name.first == UInt8(ascii: ":") { return "pseudo-header in trailers" }
            if let p = fieldProblem(f) { return p }
        }
        if size > maxHeaderListSize { return "trailers of \(size) bytes over \(maxHeaderListSize)" }
        return nil
    }

    /// A regular field: lower-case token name, value of visible bytes, spaces and tabs, not at either end; none of
    /// the connection-specific fields (RFC 9113 8.2.2).
    static func fieldProblem(_ f: H2Field) -> String? {
        guard !f.name.isEmpty, f.name.allSatisfy(isTchar) else { return "bad field name" }
        if f.name.contains(where: { $0 >= 0x41 && $0 <= 0x5a }) { return "upper-case field name" }
        for b in f.value where b < 0x20 && b != 0x09 || b == 0x7f { return "control byte in a field value" }
        if let first = f.value.first, let last = f.value.last,
           first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 {
            return "field value with leading or trailing whitespace"
        }
        switch f.nameString {
        case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
            return "connection-specific field \(f.nameString)"
        case "te":
            if f.value != Array("trailers".utf8) { return "te other than trailers" }
        default:
            break
        }
        return nil
    }

    static func isAlpha(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) }

    /// RFC 9110 5.6.2 tchar.
    static func isTchar(_ b: UInt8) -> Bool {
        if isAlpha(b) || (b >= 0x30 && b <= 0x39) { return true }
        switch b {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
