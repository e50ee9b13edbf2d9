import GatewayTLS

/// TLS for Redis connections: the client context (CA, optional client certificate) and the name to verify.
public struct RedisTLS: Sendable {
    public let context: TLSContext
    /// Verified against the server's certificate; nil verifies the host each connection goes to.
    public let serverName: String?

    public init(context: TLSContext, serverName: String?) {
        self.context = context
        self.serverName = serverName
    }
}
