/// Why `replay.redis.url` was refused; no case carries any part of the URL.
public enum RedisURLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No `redis://`, `rediss://`, `redis+sentinel://`, ... at the start.
    case notARedisURL
    /// User info that is not `:password` or `user:password`, or bad percent-encoding in it.
    case userinfo
    /// A host that is not a name, an IPv4 address or a bracketed IPv6 address (or an empty place in a node list).
    case host
    /// A port that is not a number in 1-65535.
    case port
    /// A path that is not one database number.
    case database
    /// `?...` or `#...`: no URL options are read, so none may be given.
    case options
    /// More than one node for `redis://` or `rediss://`, which connect to one server.
    case severalNodes
    /// The node at this position (1-based) repeats an earlier one.
    case duplicateNode(position: Int)
    /// `redis+sentinel://` without `/MASTER`, or a master name with characters other than letters, digits, `.-_`.
    case masterName
    /// `redis+cluster://` with a path other than none or `/0`: Redis Cluster has only database 0.
    case clusterDatabase

    /// The accepted forms, for the messages that say what a URL should look like.
    static let forms = "redis[s]://[[user]:password@]host[:port][/db], redis[s]+sentinel://[[user]:password@]host[:port],..."
        + "/MASTER[/db] or redis[s]+cluster://[[user]:password@]host[:port],..."

    public var description: String {
        switch self {
        case .notARedisURL: "must be \(Self.forms)"
        case .userinfo: "user info must be ':password' or 'user:password' with a non-empty password, percent-encoded"
        case .host: "host must be a name, an IPv4 address or an [IPv6] address"
        case .port: "port must be 1-65535"
        case .database: "database must be a number 0-\(RedisEndpoint.maxDatabase) after '/'"
        case .options: "options after '?' or '#' are not supported"
        case .severalNodes: "redis:// and rediss:// take one host; list several with redis+sentinel:// or redis+cluster://"
        case .duplicateNode(let position): "node \(position) repeats an earlier node"
        case .masterName:
            "redis+sentinel:// needs the master's name after the hosts (/MASTER[/db]): "
                + "1-\(RedisEndpoint.maxMasterNameLength) letters, digits, '.', '-' or '_'"
        case .clusterDatabase: "redis+cluster:// takes no database (Redis Cluster has only database 0): no path or /0"
        }
    }
}
