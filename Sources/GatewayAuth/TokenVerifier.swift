import GatewayCore

/// Checks session tokens against the contract's rules (header, signature, then claims). Safe to share between loops.
public final class TokenVerifier: Sendable {
    public let settings: VerifierSettings
    public let clock: any Clock

    public init(settings: VerifierSettings, clock: any Clock) {
        self.settings = settings
        self.clock = clock
    }

    /// Verifies the value of an `Authorization` header (`Bearer <token>`).
    public func verify(authorization: String) -> Result<TokenVerdict, AuthFailure> {
        // INTERFACE ONLY: the auth helper replaces this body with the real verification.
        .failure(.malformedToken)
    }

    /// Verifies a bare token (no `Bearer ` prefix).
    public func verify(token: String) -> Result<TokenVerdict, AuthFailure> {
        .failure(.malformedToken)
    }
}
