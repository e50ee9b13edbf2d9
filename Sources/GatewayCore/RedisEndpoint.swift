/// Where a Redis replay store connects and how it logs in: the one reading of `replay.redis.url`, used both by
/// `check` (GatewayConfig) and by the store (GatewayReplay), so the two can never disagree about a URL.
///
/// Its textual forms (`description`, `debugDescription`, the `Mirror` that `dump` walks) never show the password.
public struct RedisEndpoint: Sendable, Equatable {
    /// The first node; kept apart from the others so that `nodes` can never be empty.
    private var firstNode: RedisNodeAddress
    /// The nodes after the first (Sentinels or Cluster seeds); empty for a standalone server.
    private var otherNodes: [RedisNodeAddress]
    /// The database selected after login (`SELECT db`); 0 when the URL has no path, always 0 for a cluster.
    public var database: Int
    /// The ACL user for `AUTH username password`; nil sends `AUTH password` (the `default` user).
    public var username: String?
    /// The password for `AUTH`, as raw bytes; nil sends no `AUTH` at all.
    public var password: [UInt8]?
    /// True for `rediss*://`: every connection (Sentinels and data nodes alike) speaks TLS.
    public var tls: Bool
    /// Whether the nodes are the server, Sentinels, or Cluster seeds.
    public var mode: RedisMode

    /// Makes an endpoint from its parts; `moreNodes` are the Sentinels or Cluster seeds after the first.
    public init(host: String, port: Int = 6379, database: Int = 0, username: String? = nil, password: [UInt8]? = nil,
                tls: Bool = false, mode: RedisMode = .standalone, moreNodes: [RedisNodeAddress] = []) {
        self.firstNode = RedisNodeAddress(host: host, port: port)
        self.otherNodes = moreNodes
        self.database = database
        self.username = username
        self.password = password
        self.tls = tls
        self.mode = mode
    }

    /// The standalone server, or the Sentinels, or the Cluster seeds, in URL order; never empty.
    public var nodes: [RedisNodeAddress] { [firstNode] + otherNodes }

    /// The first node's host without brackets: `cache.internal`, `127.0.0.1`, `::1`.
    public var host: String {
        get { firstNode.host }
        set { firstNode.host = newValue }
    }

    /// The first node's port, 1...65535.
    public var port: Int {
        get { firstNode.port }
        set { firstNode.port = newValue }
    }

    /// The largest database number accepted; Redis itself has 16 unless `databases` says otherwise.
    public static let maxDatabase = 99_999

    /// The longest Sentinel master name accepted.
    public static let maxMasterNameLength = 128

    /// The scheme that gives this endpoint back: `redis`, `rediss`, `redis+sentinel`, ..., `rediss+cluster`.
    public var scheme: String {
        let base = tls ? "rediss" : "redis"
        switch mode {
        case .standalone: return base
        case .sentinel: return base + "+sentinel"
        case .cluster: return base + "+cluster"
        }
    }
}

extension RedisEndpoint: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The URL without the password: `rediss+sentinel://user@h1:26379,h2:26379/master/0`; a cluster shows no database.
    public var description: String {
        var text = "\(scheme)://\(username.map { "\($0)@" } ?? "")"
        text += nodes.map(\.description).joined(separator: ",")
        switch mode {
        case .standalone: text += "/\(database)"
        case .sentinel(let master): text += "/\(master)/\(database)"
        case .cluster: break
        }
        return text
    }

    public var debugDescription: String { description + (password == nil ? "" : " (password redacted)") }

    /// `dump` and debuggers walk stored properties; the password shows only as whether there is one.
    public var customMirror: Mirror {
        Mirror(self, children: ["nodes": nodes.map(\.description), "tls": tls, "mode": mode, "database": database,
                                "username": username as Any, "password": password == nil ? "none" : "(redacted)"],
               displayStyle: .struct)
    }
}
