import GatewayConfig
import GatewayCore
import GatewayLoop
import GatewayReplay
import GatewayTLS
import Logging

/// Builds the replay store `replay.store` names.
enum ReplayStoreFactory {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `logger` receives the Redis store's login failures (never the password).
    static func make(_ config: ReplayConfig, clock: any Clock, loops: [EventLoop], logger: Logger) throws -> any ReplayStore {
        switch config.store {
        case .memory:
            return MemoryReplayStore(maxEntries: config.maxEntries, clock: clock)
        case .redis:
            let endpoint: RedisEndpoint
            do {
                endpoint = try config.redis.endpoint()
            } catch {
                throw Failure(description: "replay.redis: \(error)")
            }
            var tls: RedisTLS?
            if endpoint.tls {
                let settings = config.redis.tls ?? RedisTLSConfig()
                var certificate: CertificatePaths?
                if let chain = settings.certificateChain, let key = settings.privateKey {
                    certificate = CertificatePaths(certificateChain: chain, privateKey: key)
                }
                do {
                    let context = try TLSContext.client(caFile: settings.caFile, verify: true, certificate: certificate)
                    tls = RedisTLS(context: context, serverName: settings.serverName)
                } catch {
                    throw Failure(description: "replay.redis.tls: \(error)")
                }
            }
            // on_unavailable is applied by the exchange, so the store reports `.unavailable` as is.
            return RedisReplayStore(endpoint: endpoint, keyPrefix: config.redis.keyPrefix, timeout: config.redis.timeout,
                                    tls: tls, loops: loops, logger: logger)
        }
    }
}
