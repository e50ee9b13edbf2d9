/// A request target after normalization: the path that is routed and forwarded, and the query passed on verbatim.
public struct NormalizedTarget: Sendable, Equatable {
    /// Dot segments removed, percent-encoded unreserved characters decoded, `//` kept.
    public var path: String
    /// The text after the first `?`, exactly as the client sent it; nil when there was no `?`.
    public var query: String?

    public init(path: String, query: String?) {
        self.path = path
        self.query = query
    }

    /// `path` plus `?query`: the target the upstream receives.
    public var originForm: String {
        guard let query else { return path }
        return path + "?" + query
    }
}

/// Turns a client's request target into the one path the gateway routes on and the backend receives.
///
/// Why each rule exists: the route decision must be made on the same path the backend will act on, so
/// anything a backend could read differently from the gateway is either normalized away or refused:
/// - `%XX` of an unreserved character (`A-Z a-z 0-9 - . _ ~`) is decoded (RFC 3986 6.2.2.2), so `/%2e%2e/admin`
///   and `/%61dmin` are routed as `/admin`; other escapes stay, with upper-case hex.
/// - `%2F` and `%5C` (encoded `/` and `\`) are refused: some backends decode them into separators after the
///   gateway has routed, which would let `/public/..%2Fadmin` reach `/admin` through the `/public` route.
/// - a dot segment carrying `;` parameters (`..;`, `.;x`), also with the `;` escaped (`..%3B`, `.%3bx`), is refused:
///   servlet containers treat it as `..` or `.`, and a backend or filter that decodes before dropping parameters
///   reads `%3B` as `;`. A `;` elsewhere is kept: the path is forwarded with its parameters (the router ignores them).
/// - dot segments are removed (RFC 3986 5.2.4) and never climb above `/`; empty segments (`//`) are kept.
/// - refused (nil, answered `400 bad_request`): a target not starting with `/` (also `*` and absolute-form),
///   a backslash, `#`, a byte that is not visible ASCII, `%00`, or a `%` not followed by two hex digits
///   anywhere in the target (query included).
public enum PathNormalizer {
    /// Normalizes an origin-form request target; nil when it must be refused with 400.
    public static func normalize(_ target: String) -> NormalizedTarget? {
        // Most targets are a plain path: checked, then handed back as they are instead of decoded into a new string.
        let bytes = target.utf8.span
        if bytes.withUnsafeBufferPointer({ isPlainPath($0) }) { return NormalizedTarget(path: target, query: nil) }
        return bytes.withUnsafeBufferPointer { normalize(bytes: $0) }
    }

    /// True for a target `normalize(bytes:)` would return unchanged as its path with no query: it starts with `/`
    /// and holds only visible ASCII other than `\`, `#`, `%` and `?`, with no `.` right after a `/`.
    static func isPlainPath(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = t.first, first == UInt8(ascii: "/") else { return false }
        var previous = first
        for b in t.dropFirst() {
            if b <= 0x20 || b >= 0x7F { return false }
            switch b {
            case UInt8(ascii: "\\"), UInt8(ascii: "#"), UInt8(ascii: "%"), UInt8(ascii: "?"): return false
            case UInt8(ascii: "."): if previous == UInt8(ascii: "/") { return false }
            default: break
            }
            previous = b
        }
        return true
    }

    /// Same as `normalize(_:)` on raw target bytes.
    public static func normalize(bytes t: UnsafeBufferPointer<UInt8>) -> NormalizedTarget? {
        guard let first = t.first, first == UInt8(ascii: "/") else { return nil }
        var queryStart: Int? = nil
        var needsRewrite = false
        var i = 0
        let n = t.count
        while i < n {
            let b = t[i]
            if b <= 0x20 || b >= 0x7F || b == UInt8(ascii: "\\") || b == UInt8(ascii: "#") { return nil }
            if b == UInt8(ascii: "%") {
                guard i + 2 < n, let hi = hexValue(t[i + 1]), let lo = hexValue(t[i + 2]) else { return nil }
                let decoded = hi << 4 | lo
                if decoded == 0 { return nil }
                if queryStart == nil {
                    if decoded == UInt8(ascii: "/") || decoded == UInt8(ascii: "\\") { return nil }
                    needsRewrite = true
                }
                i += 3
                continue
            }
            if queryStart == nil {
                if b == UInt8(ascii: "?") {
                    queryStart = i
                } else if b == UInt8(ascii: ".") && t[i - 1] == UInt8(ascii: "/") {
                    // `i >= 1` holds: t[0] is `/`, not `.`.
                    needsRewrite = true
                }
            }
            i += 1
        }
        let pathEnd = queryStart ?? n
        let query: String? = queryStart.map { String(decoding: UnsafeBufferPointer(rebasing: t[($0 + 1)..<n]), as: UTF8.self) }
        if !needsRewrite {
            return NormalizedTarget(path: String(decoding: UnsafeBufferPointer(rebasing: t[0..<pathEnd]), as: UTF8.self),
                                    query: query)
        }
        guard let path = rewrite(UnsafeBufferPointer(rebasing: t[0..<pathEnd])) else { return nil }
        return NormalizedTarget(path: path, query: query)
    }

    /// Decodes unreserved escapes and removes dot segments; input is a validated path starting with `/`.
    private static func rewrite(_ p: UnsafeBufferPointer<UInt8>) -> String? {
        // Decode first, so `%2e` counts as `.` when segments are classified.
        var decoded: [UInt8] = []
        decoded.reserveCapacity(p.count)
        var i = 0
        while i < p.count {
            let b = p[i]
            if b == UInt8(ascii: "%"), i + 2 < p.count, let hi = hexValue(p[i + 1]), let lo = hexValue(p[i + 2]) {
                let c = hi << 4 | lo
                if isUnreserved(c) {
                    decoded.append(c)
                } else {
                    decoded.append(b)
                    decoded.append(upperHex(p[i + 1]))
                    decoded.append(upperHex(p[i + 2]))
                }
                i += 3
            } else {
                decoded.append(b)
                i += 1
            }
        }
        // Segments as ranges into `decoded`; decoded[0] is `/`.
        var kept: [Range<Int>] = []
        var endsWithSlash = false
        var start = 1
        while start <= decoded.count {
            var end = start
            while end < decoded.count && decoded[end] != UInt8(ascii: "/") { end += 1 }
            let isLast = end >= decoded.count
            switch classify(decoded, start..<end) {
            case .current:
                endsWithSlash = isLast
            case .parent:
                if !kept.isEmpty { kept.removeLast() }
                endsWithSlash = isLast
            case .parameterizedDot:
                return nil
            case .normal:
                kept.append(start..<end)
                endsWithSlash = false
            }
            start = end + 1
        }
        var out: [UInt8] = [UInt8(ascii: "/")]
        out.reserveCapacity(decoded.count)
        for (k, r) in kept.enumerated() {
            if k > 0 { out.append(UInt8(ascii: "/")) }
            out.append(contentsOf: decoded[r])
        }
        if endsWithSlash && !kept.isEmpty { out.append(UInt8(ascii: "/")) }
        return String(decoding: out, as: UTF8.self)
    }

    private enum SegmentKind { case normal, current, parent, parameterizedDot }

    /// Classifies the segment `s[r]` of a decoded path (escapes that remain have upper-case hex).
    private static func classify(_ s: [UInt8], _ r: Range<Int>) -> SegmentKind {
        let dot = UInt8(ascii: ".")
        let count = r.count
        if count == 1 && s[r.lowerBound] == dot { return .current }
        if count == 2 && s[r.lowerBound] == dot && s[r.lowerBound + 1] == dot { return .parent }
        guard count >= 2 && s[r.lowerBound] == dot else { return .normal }
        let afterDots = s[r.lowerBound + 1] == dot ? r.lowerBound + 2 : r.lowerBound + 1
        return startsParameters(s, at: afterDots, end: r.upperBound) ? .parameterizedDot : .normal
    }

    /// True when `s[i..<end]` begins with `;` or `%3B`, where path parameters start.
    private static func startsParameters(_ s: [UInt8], at i: Int, end: Int) -> Bool {
        guard i < end else { return false }
        if s[i] == UInt8(ascii: ";") { return true }
        // `rewrite` has upper-cased the hex digits, so `%3b` arrives here as `%3B`.
        return i + 3 <= end && s[i] == UInt8(ascii: "%") && s[i + 1] == UInt8(ascii: "3") && s[i + 2] == UInt8(ascii: "B")
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    @inline(__always)
    private static func upperHex(_ b: UInt8) -> UInt8 { (b >= 0x61 && b <= 0x66) ? b - 0x20 : b }

    @inline(__always)
    private static func isUnreserved(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
