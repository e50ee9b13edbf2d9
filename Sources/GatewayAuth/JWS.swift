/// Low-level compact-JWS pieces: the header rule and a bare HS256 signature check (RFC 7515 vectors, tools).
public enum JWS {
    /// `{"alg":"HS256","typ":"JWT"}` as every Shopify token spells it; skips the JSON read on the hot path.
    private static let canonicalHeader: StaticString = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

    /// True when `token` is three base64url segments, its header passes the HS256 rule, and its signature is
    /// the HMAC-SHA256 of `header.payload` under `key`. Looks at no claim.
    public static func verifyHS256(token: String, key: [UInt8]) -> Bool {
        var value = token
        return value.withUTF8 { bytes in
            guard let segments = TokenSegments.split(bytes),
                  checkHeader(UnsafeBufferPointer(rebasing: bytes[segments.header])) == nil,
                  let signature = Base64URL.decode(UnsafeBufferPointer(rebasing: bytes[segments.signature])) else {
                return false
            }
            let hmac = HMACSHA256Key(secret: key)
            return signature.withUnsafeBytes { sig in
                hmac.verify(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[segments.signingInput]),
                            signature: sig)
            }
        }
    }

    /// nil when the header segment is a JSON object with `alg` exactly "HS256" (else `unsupported_algorithm`),
    /// `typ` absent or "JWT", and no `crit` (an extension we cannot honour); those two are `malformed_token`.
    static func checkHeader(_ segment: UnsafeBufferPointer<UInt8>) -> AuthFailure? {
        let canonical = canonicalHeader
        if segment.count == canonical.utf8CodeUnitCount,
           memcmpEqual(segment, canonical.utf8Start, count: segment.count) {
            return nil
        }
        guard let bytes = Base64URL.decode(segment), let members = FlatJSONReader.parseObject(bytes) else {
            return .malformedToken
        }
        guard let alg = members.value(of: .alg), alg == .string("HS256") else {
            return .unsupportedAlgorithm
        }
        if let typ = members.value(of: .typ), typ != .string("JWT") {
            return .malformedToken
        }
        if members.value(of: .crit) != nil { return .malformedToken }
        return nil
    }

    private static func memcmpEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> Bool {
        for i in 0..<count where a[i] != b[i] { return false }
        return true
    }
}
