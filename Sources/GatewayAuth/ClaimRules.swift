/// The claim checks that need no key: time windows, `dest`, shops, `iss`, `sub`. Pure functions for testing.
enum ClaimRules {
    /// Time checks in contract order. With skew S and now T: expired when T >= exp + S; not yet valid when
    /// T < nbf - S; issued in the future when iat > T + S; too long when exp - (iat ?? T) > maxLifetime.
    static func checkTimes(_ c: TokenClaims, now: Int64, skew: Int64, maxLifetime: Int64) -> AuthFailure? {
        if now >= c.exp.addingSaturated(skew) { return .tokenExpired }
        if let nbf = c.nbf, now < nbf.subtractingSaturated(skew) { return .tokenNotYetValid }
        if let iat = c.iat, iat > now.addingSaturated(skew) { return .tokenIssuedInFuture }
        if c.exp.subtractingSaturated(c.iat ?? now) > maxLifetime { return .tokenLifetimeTooLong }
        return nil
    }

    /// `dest` lower-cased with `https://` or `http://` stripped, if what remains is a plausible host name.
    static func shopHost(fromDest dest: String) -> [UInt8]? {
        var host = Array(dest.utf8)
        for i in host.indices where host[i] >= 0x41 && host[i] <= 0x5A { host[i] |= 0x20 }
        host = stripScheme(host)
        return isPlausibleHost(host) ? host : nil
    }

    /// A host of DNS labels: `a-z 0-9 -` separated by single dots, at most 253 bytes. This rules out
    /// control characters, spaces, `/`, ports and user-info, so the value is safe in `X-Shop-Domain`.
    static func isPlausibleHost(_ host: [UInt8]) -> Bool {
        guard !host.isEmpty, host.count <= 253 else { return false }
        var labelLength = 0
        for c in host {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                labelLength += 1
                if labelLength > 63 { return false }
            case UInt8(ascii: "."):
                if labelLength == 0 { return false }
                labelLength = 0
            default:
                return false
            }
        }
        return labelLength > 0
    }

    /// The host part of `iss`: lower-cased, scheme stripped, everything from the first `/` dropped.
    static func issuerHost(_ iss: String) -> [UInt8] {
        var bytes = Array(iss.utf8)
        for i in bytes.indices where bytes[i] >= 0x41 && bytes[i] <= 0x5A { bytes[i] |= 0x20 }
        bytes = stripScheme(bytes)
        if let slash = bytes.firstIndex(of: UInt8(ascii: "/")) { bytes.removeSubrange(slash...) }
        return bytes
    }

    private static func stripScheme(_ bytes: [UInt8]) -> [UInt8] {
        for prefix in ["https://", "http://"] {
            let p = Array(prefix.utf8)
            if bytes.starts(with: p) { return Array(bytes[p.count...]) }
        }
        return bytes
    }

    /// The digits of `sub` when it is exactly `gid://shopify/Customer/<1-20 digits>`.
    static func customerDigits(fromSub sub: String) -> Substring? {
        let prefix = "gid://shopify/Customer/"
        guard sub.hasPrefix(prefix) else { return nil }
        let digits = sub.dropFirst(prefix.count)
        return isDigits(digits) ? digits : nil
    }

    /// True for 1-20 ASCII digits (a staff id or a customer id).
    static func isDigits(_ s: Substring) -> Bool {
        let u = s.utf8
        return !u.isEmpty && u.count <= 20 && u.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}

extension Int64 {
    fileprivate func addingSaturated(_ other: Int64) -> Int64 {
        let (v, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : v
    }

    fileprivate func subtractingSaturated(_ other: Int64) -> Int64 {
        let (v, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : v
    }
}
