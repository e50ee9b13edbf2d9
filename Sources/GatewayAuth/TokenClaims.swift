/// The registered claims of a payload, typed; built only after the signature verified.
struct TokenClaims: Equatable {
    var exp: Int64
    var nbf: Int64?
    var iat: Int64?
    var dest: String?
    var iss: String?
    var sub: String?
    var jti: String?

    /// Longest accepted `jti`, in bytes.
    static let maxJTIBytes = 128

    /// Types the claims: `exp` absent is `missing_claim`; any claim of the wrong type, or an insane `jti`, is `malformed_token`.
    static func extract(from members: FlatJSONReader.Members) -> Result<TokenClaims, AuthFailure> {
        var exp: Int64?
        var claims = TokenClaims(exp: 0)
        for member in members {
            let value = member.value
            switch member.known {
            case .exp:
                guard case .number(let v?) = value else { return .failure(.malformedToken) }
                exp = v
            case .nbf:
                guard case .number(let v?) = value else { return .failure(.malformedToken) }
                claims.nbf = v
            case .iat:
                guard case .number(let v?) = value else { return .failure(.malformedToken) }
                claims.iat = v
            case .dest:
                guard let s = value.stringValue else { return .failure(.malformedToken) }
                claims.dest = s
            case .iss:
                guard let s = value.stringValue else { return .failure(.malformedToken) }
                claims.iss = s
            case .sub:
                guard let s = value.stringValue else { return .failure(.malformedToken) }
                claims.sub = s
            case .jti:
                guard let s = value.stringValue, isSaneJTI(s) else { return .failure(.malformedToken) }
                claims.jti = s
            default:
                continue
            }
        }
        guard let exp else { return .failure(.missingClaim) }
        claims.exp = exp
        return .success(claims)
    }

    /// 1...128 bytes of visible ASCII (0x21-0x7E): safe as a replay-store key and in a log line.
    static func isSaneJTI(_ s: String) -> Bool {
        let u = s.utf8
        guard !u.isEmpty, u.count <= maxJTIBytes else { return false }
        return u.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }
}
