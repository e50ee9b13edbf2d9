import GatewayCore
@testable import GatewayAuth
import TestSupport

/// Shared keys, apps and clock for the auth tests: two apps, the first mid-rotation.
enum Fixtures {
    static let now: Int64 = 1_700_000_000
    static let skew: Int64 = 10
    static let maxLifetime: Int64 = 900

    static let currentSecret = Array("app-a-current-secret-0123456789".utf8)
    static let previousSecret = Array("app-a-previous-secret-abcdefgh".utf8)
    static let otherAppSecret = Array("app-b-secret-zyxwvutsrqponmlkj".utf8)

    static let settings = VerifierSettings(
        apps: [
            AppKeys(clientId: "client-a", secrets: [currentSecret, previousSecret]),
            AppKeys(clientId: "client-b", secrets: [otherAppSecret], shopPatterns: ["shop.example.com", "*.Example.ORG"]),
        ],
        clockSkew: skew, maxLifetime: maxLifetime)

    static func verifier(at time: Int64 = now) -> TokenVerifier {
        TokenVerifier(settings: settings, clock: ManualClock(wallSeconds: time))
    }

    /// The claims of a good extension token for client-a, issued at `now`; override by key.
    static func claims(_ overrides: [(String, ClaimValue?)] = []) -> [(String, ClaimValue)] {
        var claims: [(String, ClaimValue)] = [
            ("dest", .string("store.myshopify.com")), ("aud", .string("client-a")),
            ("exp", .int(now + 300)), ("nbf", .int(now)), ("iat", .int(now)),
            ("jti", .string("0b6d4bd2-7c43-4b0c-9a61-1f3a0f1c2b3d")), ("sub", .string("gid://shopify/Customer/123")),
        ]
        for (key, value) in overrides {
            if let i = claims.firstIndex(where: { $0.0 == key }) {
                if let value { claims[i].1 = value } else { claims.remove(at: i) }
            } else if let value {
                claims.append((key, value))
            }
        }
        return claims
    }

    static func token(_ overrides: [(String, ClaimValue?)] = [], secret: [UInt8] = currentSecret) -> String {
        TokenMinter.mint(claims: claims(overrides), secret: secret)
    }

    /// A token whose payload is raw JSON text (for wrong types and odd JSON).
    static func rawToken(payload: String, header: String = TokenMinter.headerJSON, secret: [UInt8] = currentSecret) -> String {
        TokenMinter.sign(headerJSON: header, payloadJSON: payload, secret: secret)
    }
}

extension Result where Success == TokenVerdict, Failure == AuthFailure {
    /// The failure, or nil when the token was accepted.
    var failure: AuthFailure? {
        if case .failure(let f) = self { return f }
        return nil
    }

    var verdict: TokenVerdict? {
        if case .success(let v) = self { return v }
        return nil
    }
}
