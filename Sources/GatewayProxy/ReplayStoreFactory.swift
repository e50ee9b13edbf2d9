import GatewayConfig
import GatewayCore
import GatewayReplay

/// Builds the replay store `replay.store` names.
enum ReplayStoreFactory {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func make(_ config: ReplayConfig, clock: any Clock) throws -> any ReplayStore {
        switch config.store {
        case .memory:
            return MemoryReplayStore(maxEntries: config.maxEntries, clock: clock)
        case .redis:
            do {
                // on_unavailable is applied by the exchange (and counted there): the store reports `.unavailable`.
                return try RedisReplayStore(url: config.redis.url, keyPrefix: config.redis.keyPrefix,
                                            timeout: config.redis.timeout, clock: clock)
            } catch {
                throw Failure(description: "replay.redis.url: \(error)")
            }
        }
    }
}
