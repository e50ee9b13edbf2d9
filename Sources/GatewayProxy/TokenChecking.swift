import GatewayAuth

/// What the request gate needs from a token verifier; lets the gate be tested with canned verdicts.
public protocol TokenChecking {
    /// Verifies the value of an `Authorization` header (`Bearer <token>`).
    func verify(authorization: String) -> Result<TokenVerdict, AuthFailure>
    /// The same, straight from the header bytes (the hot path: no String is made of the token).
    func verify(authorizationBytes: UnsafeBufferPointer<UInt8>) -> Result<TokenVerdict, AuthFailure>
}

extension TokenChecking {
    public func verify(authorizationBytes: UnsafeBufferPointer<UInt8>) -> Result<TokenVerdict, AuthFailure> {
        verify(authorization: String(decoding: authorizationBytes, as: UTF8.self))
    }
}

extension TokenVerifier: TokenChecking {}
