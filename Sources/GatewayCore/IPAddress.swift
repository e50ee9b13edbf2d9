/// A numeric IPv4 or IPv6 address, parsed without the resolver: for CIDR matching of peers and `X-Forwarded-For`
/// entries. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is read as the IPv4 address it carries.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    /// The 128 bits as two halves, high first.
    case v6(UInt64, UInt64)

    /// Parses `192.0.2.1`, `2001:db8::1`, `::ffff:192.0.2.1`; a zone (`fe80::1%eth0`) is dropped when `allowZone`.
    /// Nil for anything else (no leading zeros in IPv4 octets, no brackets, no port).
    public static func parse<S: StringProtocol>(_ text: S, allowZone: Bool = false) -> IPAddress? {
        var bytes = Array(text.utf8)
        if let percent = bytes.firstIndex(of: UInt8(ascii: "%")) {
            guard allowZone, percent > 0 else { return nil }
            bytes.removeSubrange(percent...)
        }
        if let v4 = parseV4(bytes[...]) { return .v4(v4) }
        guard let (hi, lo) = parseV6(bytes) else { return nil }
        if hi == 0 && (lo >> 32) == 0xFFFF { return .v4(UInt32(truncatingIfNeeded: lo)) }
        return .v6(hi, lo)
    }

    public var description: String {
        switch self {
        case .v4(let a):
            return "\(a >> 24).\((a >> 16) & 0xFF).\((a >> 8) & 0xFF).\(a & 0xFF)"
        case .v6(let hi, let lo):
            // RFC 5952: lower-case hex, the longest run of two or more zero groups (the first of equals) as `::`.
            let groups = (0..<8).map { i -> UInt64 in ((i < 4 ? hi : lo) >> UInt64(48 - 16 * (i % 4))) & 0xFFFF }
            var best = (start: -1, count: 0)
            var i = 0
            while i < 8 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > best.count && j - i >= 2 { best = (i, j - i) }
                i = max(j, i + 1)
            }
            let text = groups.map { String($0, radix: 16) }
            guard best.start >= 0 else { return text.joined(separator: ":") }
            let head = text[0..<best.start].joined(separator: ":")
            let tail = text[(best.start + best.count)...].joined(separator: ":")
            return head + "::" + tail
        }
    }

    /// Four decimal octets 0-255, no leading zeros (`010` is octal to some parsers, decimal to others).
    static func parseV4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var octets = 0
        var current: UInt32 = 0
        var digits = 0
        var leadingZero = false
        for b in bytes {
            if b == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return nil }
                value = value << 8 | current
                octets += 1
                current = 0
                digits = 0
                leadingZero = false
            } else if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                if leadingZero { return nil }
                if digits == 0 && b == UInt8(ascii: "0") { leadingZero = true }
                current = current * 10 + UInt32(b - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, current <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, octets == 3 else { return nil }
        return value << 8 | current
    }

    /// Eight 16-bit hex groups, one `::` for a run of zeros, optionally ending in a dotted IPv4 address.
    static func parseV6(_ bytes: [UInt8]) -> (UInt64, UInt64)? {
        guard bytes.count >= 2, bytes.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        var i = 0
        if bytes[0] == UInt8(ascii: ":") {
            guard bytes[1] == UInt8(ascii: ":") else { return nil }
            sawGap = true
            i = 2
        }
        while i < bytes.count {
            var j = i
            var group: UInt32 = 0
            while j < bytes.count, let d = hexValue(bytes[j]) {
                group = group << 4 | UInt32(d)
                j += 1
                guard j - i <= 4 else { return nil }
            }
            if j < bytes.count && bytes[j] == UInt8(ascii: ".") {
                // The last 32 bits written as IPv4.
                guard let v4 = parseV4(bytes[i...]) else { return nil }
                let pair = [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                if sawGap { tail += pair } else { head += pair }
                i = bytes.count
                break
            }
            guard j > i else { return nil }
            if sawGap { tail.append(UInt16(group)) } else { head.append(UInt16(group)) }
            if j == bytes.count { i = j; break }
            guard bytes[j] == UInt8(ascii: ":") else { return nil }
            if j + 1 < bytes.count && bytes[j + 1] == UInt8(ascii: ":") {
                guard !sawGap else { return nil }
                sawGap = true
                i = j + 2
            } else {
                guard j + 1 < bytes.count else { return nil }
                i = j + 1
            }
        }
        let count = head.count + tail.count
        if sawGap { guard count <= 7 else { return nil } } else { guard count == 8 else { return nil } }
        let groups = head + [UInt16](repeating: 0, count: 8 - count) + tail
        var hi: UInt64 = 0
        var lo: UInt64 = 0
        for k in 0..<4 { hi = hi << 16 | UInt64(groups[k]) }
        for k in 4..<8 { lo = lo << 16 | UInt64(groups[k]) }
        return (hi, lo)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
