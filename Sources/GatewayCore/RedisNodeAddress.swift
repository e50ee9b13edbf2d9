/// One Redis server, Sentinel or Cluster seed named in `replay.redis.url`.
public struct RedisNodeAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets: `cache.internal`, `127.0.0.1`, `::1`.
    public var host: String
    /// 1...65535.
    public var port: Int

    /// Makes an address from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// True when `other` names the same server: host names compare without regard to case (DNS does the same).
    func isSameNode(as other: RedisNodeAddress) -> Bool {
        port == other.port && host.lowercased() == other.host.lowercased()
    }
}
