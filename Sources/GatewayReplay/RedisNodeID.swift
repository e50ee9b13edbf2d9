import GatewayCore

/// Where one Redis node listens, as a topology reply names it (the key of a loop's connection table): the same value
/// as a configured address, so seeds and the nodes Sentinel or Cluster name compare directly.
public typealias RedisNodeID = RedisNodeAddress

extension RedisNodeAddress {
    /// A TCP port a peer may name: 0 is never a reachable endpoint.
    static func isValidPort(_ port: Int64) -> Bool { (1...65535).contains(port) }
}
