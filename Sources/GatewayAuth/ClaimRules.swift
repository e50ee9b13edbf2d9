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
    /// Returns `dest` itself (no copy) when it already is a bare lower-case host, as Shopify sends it.
    static func shopHost(fromDest dest: String) -> String? {
        var text = dest
        return text.withUTF8 { bytes -> String? in
            let skip = schemeLength(bytes)
            let host = UnsafeBufferPointer(rebasing: bytes[skip...])
            var hasUpper = false
            guard isPlausibleHost(host, hasUpper: &hasUpper) else { return nil }
            if skip == 0 && !hasUpper { return dest }
            return String(unsafeUninitializedCapacity: host.count) { out in
                for i in 0..<host.count { out[i] = lowercased(host[i]) }
                return host.count
            }
        }
    }

    /// A host of DNS labels: letters, digits and `-` separated by single dots, at most 253 bytes. This rules out
    /// control characters, spaces, `/`, ports and user-info, so the value is safe in `X-Shop-Domain`.
    static func isPlausibleHost(_ host: UnsafeBufferPointer<UInt8>, hasUpper: inout Bool) -> Bool {
        guard !host.isEmpty, host.count <= 253 else { return false }
        var labelLength = 0
        for c in host {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                labelLength += 1
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                hasUpper = true
                labelLength += 1
            case UInt8(ascii: "."):
                if labelLength == 0 { return false }
                labelLength = 0
            default:
                return false
            }
            if labelLength > 63 { return false }
        }
        return labelLength > 0
    }

    /// True when the host part of `iss` (scheme stripped, everything from the first `/` dropped, compared
    /// ASCII case-insensitively) equals `host`.
    static func issuer(_ iss: String, matchesHost host: String) -> Bool {
        var issText = iss
        var hostText = host
        return issText.withUTF8 { issBytes in
            hostText.withUTF8 { hostBytes in
                var i = schemeLength(issBytes)
                var h = 0
                while i < issBytes.count, issBytes[i] != UInt8(ascii: "/") {
                    guard h < hostBytes.count, lowercased(issBytes[i]) == hostBytes[h] else { return false }
                    i += 1
                    h += 1
                }
                return h == hostBytes.count
            }
        }
    }

    /// Length of a leading `https://` or `http://` (any case), else 0.
    private static func schemeLength(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        for scheme: StaticString in ["https://", "http://"] {
            let n = scheme.utf8CodeUnitCount
            guard bytes.count >= n else { continue }
            let p = scheme.utf8Start
            var equal = true
            for k in 0..<n where lowercased(bytes[k]) != p[k] {
                equal = false
                break
            }
            if equal { return n }
        }
        return 0
    }

    @inline(__always)
    private static func lowercased(_ c: UInt8) -> UInt8 {
        c >= 0x41 && c <= 0x5A ? c | 0x20 : c
    }

    /// The digits of `sub` when it is exactly `gid://shopify/Customer/<1-20 digits>`.
    static func customerDigits(fromSub sub: String) -> String? {
        let prefix: StaticString = "gid://shopify/Customer/"
        let n = prefix.utf8CodeUnitCount
        var text = sub
        return text.withUTF8 { b -> String? in
            guard b.count > n, b.count <= n + 20 else { return nil }
            let p = prefix.utf8Start
            for k in 0..<n where b[k] != p[k] { return nil }
            for k in n..<b.count where b[k] < 0x30 || b[k] > 0x39 { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: b[n...]), as: UTF8.self)
        }
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
