import GatewayCore

/// What a node says it is in its `ROLE` reply: how a client checks, after asking Sentinel, that it reached the master.
public enum RedisRole: Sendable, Equatable {
    /// A master, with the replicas it knows (host, listening port).
    case master(replicas: [RedisNodeAddress])
    /// A replica of `master`; `linkUp` is false while it is still connecting or syncing.
    case replica(master: RedisNodeAddress, linkUp: Bool)
    /// A Sentinel, with the names of the masters it monitors.
    case sentinel(masterNames: [String])

    public var isMaster: Bool {
        if case .master = self { return true }
        return false
    }
}
