/// `redis://host:port[/db]` from `replay.redis.url`, split for the Redis store.
public struct RedisURL: Sendable, Equatable {
    /// Where the server listens.
    public var address: HostPort
    /// The database number (`SELECT db`), 0 when the URL has no path.
    public var database: Int

    /// Makes a URL from its parts.
    public init(address: HostPort, database: Int = 0) {
        self.address = address
        self.database = database
    }

    /// Parses `redis://host:port` or `redis://host:port/db`; nil for anything else (no credentials, no options).
    public static func parse(_ text: String) -> RedisURL? {
        let scheme = "redis://"
        guard text.hasPrefix(scheme) else { return nil }
        let rest = text.dropFirst(scheme.count)
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let hostPort = parts.first, let address = HostPort.parse(String(hostPort)), address.port != 0 else { return nil }
        var database = 0
        if parts.count == 2 {
            let db = parts[1]
            guard !db.isEmpty, db.count <= 5, db.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(db) else { return nil }
            database = n
        }
        return RedisURL(address: address, database: database)
    }
}
