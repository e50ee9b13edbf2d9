/// Why a message was refused; the connection that sent it must be closed after the answer.
public enum HTTP1ParseError: Error, Sendable, Equatable {
    /// Malformed or ambiguous message (400); the text is for logs, never for the peer.
    case badRequest(String)
    /// Head (or head plus trailers) over `maxHeaderBytes` (431).
    case headersTooLarge
    /// Request target over `maxTargetBytes` (414).
    case uriTooLong
    /// A transfer coding the gateway does not implement (501).
    case notImplemented(String)

    /// The HTTP status a server answers with for this error.
    public var status: Int {
        switch self {
        case .badRequest: return 400
        case .headersTooLarge: return 431
        case .uriTooLong: return 414
        case .notImplemented: return 501
        }
    }
}
