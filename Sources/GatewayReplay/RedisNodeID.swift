/// Where one Redis node listens, as a topology reply names it: the key of the client's connection table.
///
/// Not `RedisNodeAddress` (GatewayCore's configured address): this one comes from a peer and has no TLS or login.
public struct RedisNodeID: Hashable, Sendable, CustomStringConvertible {
    /// An IP literal or a name exactly as the peer spelled it; IPv6 without brackets.
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with IPv6 hosts bracketed so the port stays unambiguous in logs.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// A TCP port a peer may name: 0 is never a reachable endpoint.
    static func isValidPort(_ port: Int64) -> Bool { (1...65535).contains(port) }
}
