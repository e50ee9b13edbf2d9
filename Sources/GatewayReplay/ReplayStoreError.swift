/// Why a replay store could not be built from its configuration.
public enum ReplayStoreError: Error, Equatable, CustomStringConvertible {
    /// `replay.redis.url` is not `redis://[[user]:password@]host[:port][/db]`; the payload says which part (never the password).
    case invalidRedisURL(reason: String)

    public var description: String {
        switch self {
        case .invalidRedisURL(let reason): "invalid redis url: \(reason)"
        }
    }
}
