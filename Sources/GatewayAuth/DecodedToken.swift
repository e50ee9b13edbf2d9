/// A token's header and payload as JSON text, for `token inspect` to show; the signature is never kept.
public struct DecodedToken: Sendable, Equatable {
    public var headerJSON: String
    public var payloadJSON: String

    public init(headerJSON: String, payloadJSON: String) {
        self.headerJSON = headerJSON
        self.payloadJSON = payloadJSON
    }
}
