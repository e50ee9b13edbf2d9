/// Why a request was not let through by the auth gate: one case per contract code (the raw value).
public enum AuthFailure: String, Error, Sendable, CaseIterable {
    case missingToken = "missing_token"
    case malformedToken = "malformed_token"
    case unsupportedAlgorithm = "unsupported_algorithm"
    case invalidSignature = "invalid_signature"
    case tokenExpired = "token_expired"
    case tokenNotYetValid = "token_not_yet_valid"
    case tokenIssuedInFuture = "token_issued_in_future"
    case tokenLifetimeTooLong = "token_lifetime_too_long"
    case unknownAudience = "unknown_audience"
    case issuerMismatch = "issuer_mismatch"
    case missingClaim = "missing_claim"
    case tokenReplayed = "token_replayed"
    case shopNotAllowed = "shop_not_allowed"
    case customerRequired = "customer_required"

    /// The HTTP status the gateway answers with.
    public var status: Int {
        switch self {
        case .shopNotAllowed, .customerRequired: return 403
        default: return 401
        }
    }

    /// Human text for the JSON body; never includes token material.
    public var message: String {
        switch self {
        case .missingToken: return "An Authorization: Bearer session token is required."
        case .malformedToken: return "The session token is not a well-formed JWT."
        case .unsupportedAlgorithm: return "The session token must be signed with HS256."
        case .invalidSignature: return "The session token signature does not verify."
        case .tokenExpired: return "The session token has expired."
        case .tokenNotYetValid: return "The session token is not valid yet."
        case .tokenIssuedInFuture: return "The session token was issued in the future."
        case .tokenLifetimeTooLong: return "The session token lifetime exceeds the allowed maximum."
        case .unknownAudience: return "The session token audience is not a configured app."
        case .issuerMismatch: return "The session token issuer does not match its destination."
        case .missingClaim: return "The session token lacks a required claim."
        case .tokenReplayed: return "The session token was already used."
        case .shopNotAllowed: return "The shop is not allowed."
        case .customerRequired: return "This route requires a logged-in customer."
        }
    }
}
