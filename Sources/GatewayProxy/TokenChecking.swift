import GatewayAuth

/// What the request gate needs from a token verifier; lets the gate be tested with canned verdicts.
public protocol TokenChecking {
    /// Verifies the value of an `Authorization` header (`Bearer <token>`).
    func verify(authorization: String) -> Result<TokenVerdict, AuthFailure>
}

extension TokenVerifier: TokenChecking {}
