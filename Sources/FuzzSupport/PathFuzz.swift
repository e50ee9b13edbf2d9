import GatewayProxy

/// `fuzz-path`: the path normalizer, on the raw bytes and (for ASCII input) on the string the parser would hand it.
///
/// - Refused or accepted, never a crash; the string entry point (with its plain-path shortcut) and the byte entry
///   point agree.
/// - A normalized path starts with `/` and holds only visible ASCII other than `\`, `#` and `?`; it has no `.` or `..`
///   segment (so no `/./`, `/../`, nor one at the end), no dot segment with `;` parameters, no escape of an unreserved
///   character (`%2E` among them), no `%2F`, `%5C` or `%00`, and upper-case hex in the escapes it keeps. `//` is kept
///   (CONTRACT.md, "Each request" 2).
/// - Normalizing is idempotent: the path normalizes to itself, and path plus query to the same target.
/// - The query is passed on verbatim: the bytes after the first `?`.
public enum PathFuzz {
    public static func check(_ d: UnsafeRawBufferPointer) throws(InvariantViolation) {
        let bytesResult = d.withMemoryRebound(to: UInt8.self) { PathNormalizer.normalize(bytes: $0) }
        let text = String(decoding: d, as: UTF8.self)
        if d.allSatisfy({ $0 < 0x80 }) {
            let stringResult = PathNormalizer.normalize(text)
            guard stringResult == bytesResult else {
                throw InvariantViolation("path", "normalize(\"\(text)\") gave \(describe(stringResult)), the bytes gave \(describe(bytesResult))")
            }
        }
        guard let n = bytesResult else { return }
        try checkPath(n.path, input: text)
        if let q = d.firstIndex(of: UInt8(ascii: "?")) {
            let query = String(decoding: UnsafeRawBufferPointer(rebasing: d[(q + 1)...]), as: UTF8.self)
            guard n.query == query else {
                throw InvariantViolation("path", "\"\(text)\": query \(n.query ?? "nil"), sent \(query)")
            }
        } else if n.query != nil {
            throw InvariantViolation("path", "\"\(text)\": a query without a `?`")
        }
        let again = PathNormalizer.normalize(n.path)
        guard again == NormalizedTarget(path: n.path, query: nil) else {
            throw InvariantViolation("path", "\"\(text)\" normalized to \"\(n.path)\", which normalizes to \(describe(again))")
        }
        let target = PathNormalizer.normalize(n.originForm)
        guard target == n else {
            throw InvariantViolation("path", "\"\(text)\" normalized to \"\(n.originForm)\", which normalizes to \(describe(target))")
        }
    }

    static func describe(_ n: NormalizedTarget?) -> String {
        guard let n else { return "refused" }
        return "\"\(n.originForm)\""
    }

    static func checkPath(_ path: String, input: String) throws(InvariantViolation) {
        func fail(_ why: String) -> InvariantViolation { InvariantViolation("path", "\"\(input)\" normalized to \"\(path)\": \(why)") }
        let p = Array(path.utf8)
        guard p.first == UInt8(ascii: "/") else { throw fail("does not start with /") }
        for b in p where b <= 0x20 || b >= 0x7F || b == UInt8(ascii: "\\") || b == UInt8(ascii: "#") || b == UInt8(ascii: "?") {
            throw fail("holds byte 0x\(String(b, radix: 16))")
        }
        var i = 0
        while i < p.count {
            if p[i] == UInt8(ascii: "%") {
                guard i + 2 < p.count, let hi = hexValue(p[i + 1]), let lo = hexValue(p[i + 2]) else { throw fail("a broken escape") }
                guard isUpperHex(p[i + 1]) && isUpperHex(p[i + 2]) else { throw fail("lower-case hex in an escape") }
                let c = hi << 4 | lo
                if c == 0 || c == UInt8(ascii: "/") || c == UInt8(ascii: "\\") { throw fail("an escaped NUL, / or \\") }
                if isUnreserved(c) { throw fail("an escaped unreserved character") }
                i += 3
            } else {
                i += 1
            }
        }
        for segment in p.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst() {
            let s = Array(segment)
            if s == [0x2E] || s == [0x2E, 0x2E] { throw fail("a dot segment") }
            let afterDots = s.starts(with: [0x2E, 0x2E]) ? 2 : (s.first == 0x2E ? 1 : 0)
            if afterDots > 0 && (s.dropFirst(afterDots).starts(with: [0x3B]) || s.dropFirst(afterDots).starts(with: Array("%3B".utf8))) {
                throw fail("a dot segment with parameters")
            }
        }
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    static func isUpperHex(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x41...0x46).contains(b) }

    static func isUnreserved(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: return true
        default: return false
        }
    }
}
