import GatewayCore

/// Node addresses as peers name them (`CLUSTER SLOTS`, `MOVED`, Sentinel replies): the same type as a configured
/// one, so seeds and the nodes a topology names compare directly.
extension RedisNodeAddress {
    /// A TCP port a peer may name: 0 is never a reachable endpoint.
    static func isValidPort(_ port: Int64) -> Bool { (1...65535).contains(port) }
}
