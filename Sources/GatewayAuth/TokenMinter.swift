import GatewayCore

/// Builds HS256 session tokens (`token mint`, tests, benchmarks); never used to accept anything.
public enum TokenMinter {
    /// The header every minted token carries.
    public static let headerJSON = #"{"alg":"HS256","typ":"JWT"}"#

    /// A token with header `{"alg":"HS256","typ":"JWT"}` and `claims` in the given order, signed with `secret`.
    public static func mint(claims: [(String, ClaimValue)], secret: [UInt8]) -> String {
        let payload = "{" + claims.map { "\"" + $0.0.jsonEscaped + "\":" + $0.1.json }.joined(separator: ",") + "}"
        return sign(headerJSON: headerJSON, payloadJSON: payload, secret: secret)
    }

    /// A Shopify-shaped token: `dest`, `aud`, `exp = iat + ttl`, `nbf = iat`, `iat`, `jti`, and `sub` when given.
    public static func mint(shop: String, clientId: String, issuedAt: Int64, ttl: Int64 = 300, jti: String,
                            subject: String? = nil, issuer: String? = nil, secret: [UInt8]) -> String {
        var claims: [(String, ClaimValue)] = []
        if let issuer { claims.append(("iss", .string(issuer))) }
        claims += [("dest", .string(shop)), ("aud", .string(clientId)), ("exp", .int(issuedAt + ttl)),
                   ("nbf", .int(issuedAt)), ("iat", .int(issuedAt)), ("jti", .string(jti))]
        if let subject { claims.append(("sub", .string(subject))) }
        return mint(claims: claims, secret: secret)
    }

    /// Signs arbitrary header and payload JSON text as they are (tests of odd headers use this).
    public static func sign(headerJSON: String, payloadJSON: String, secret: [UInt8]) -> String {
        let input = Base64URL.encode(headerJSON.utf8) + "." + Base64URL.encode(payloadJSON.utf8)
        // Only a libcrypto allocation failure gives no tag; an empty signature can then never verify.
        let tag = HMACSHA256Key(secret: secret).tag(of: Array(input.utf8)) ?? []
        return input + "." + Base64URL.encode(tag)
    }
}
