/// How the Redis store finds the server it writes to: the one it is given, the master a Sentinel names, or the
/// Cluster node that owns the key's slot.
public enum RedisMode: Sendable, Equatable, CustomStringConvertible {
    /// `redis://` / `rediss://`: the one node is the server.
    case standalone
    /// `redis+sentinel://`: the nodes are Sentinels, asked for the address of `master` (and again after a failover).
    case sentinel(master: String)
    /// `redis+cluster://`: the nodes are seeds for the slot map; MOVED and ASK are followed.
    case cluster

    public var description: String {
        switch self {
        case .standalone: "standalone"
        case .sentinel(let master): "sentinel, master \(master)"
        case .cluster: "cluster"
        }
    }
}
