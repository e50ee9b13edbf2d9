import GatewayAuth
import GatewayConfig
import GatewayCore
import GatewayHTTP1
import GatewayLoop

/// One upstream of the config with its servers resolved to addresses.
public struct UpstreamTarget: Sendable {
    public var name: String
    public var servers: [SocketAddress]
    public var serverNames: [String]
    public var connectTimeout: TimeSpan
    public var responseTimeout: TimeSpan
    public var idleTimeout: TimeSpan
    public var maxIdleConnections: Int
}

/// Everything built from one `gateway.yaml`: swapped whole on reload, read by new requests only.
public final class RuntimeSnapshot: Sendable {
    public let config: GatewayConfig
    public let verifier: TokenVerifier
    public let gate: RequestGate
    public let cors: CorsPolicy
    public let upstreams: [UpstreamTarget]
    public let upstreamIndex: [String: Int]
    public let parserLimits: HTTP1Limits
    public let generation: Int

    public enum BuildError: Error, CustomStringConvertible {
        case unresolvable(upstream: String, server: String)
        public var description: String {
            switch self {
            case .unresolvable(let u, let s): return "upstreams.\(u): cannot resolve \(s)"
            }
        }
    }

    public init(config: GatewayConfig, clock: any Clock, generation: Int) throws(BuildError) {
        self.config = config
        self.generation = generation
        let apps = config.apps.map { app in
            AppKeys(clientId: app.clientId, secrets: app.secrets.map(\.bytes), shopPatterns: app.shops)
        }
        verifier = TokenVerifier(settings: VerifierSettings(apps: apps, clockSkew: config.token.clockSkew.seconds,
                                                            maxLifetime: config.token.maxLifetime.seconds),
                                 clock: clock)
        gate = RequestGate(config: config, verifier: verifier)
        cors = CorsPolicy(config.cors)
        var targets: [UpstreamTarget] = []
        var index: [String: Int] = [:]
        for u in config.upstreams {
            var addrs: [SocketAddress] = []
            for s in u.servers {
                guard let a = try? SocketAddress.resolve(s) else { throw .unresolvable(upstream: u.name, server: s) }
                addrs.append(a)
            }
            index[u.name] = targets.count
            targets.append(UpstreamTarget(name: u.name, servers: addrs, serverNames: u.servers,
                                          connectTimeout: u.connectTimeout, responseTimeout: u.responseTimeout,
                                          idleTimeout: u.idleTimeout, maxIdleConnections: u.maxIdleConnections))
        }
        upstreams = targets
        upstreamIndex = index
        parserLimits = HTTP1Limits(maxHeaderBytes: config.limits.maxHeaderBytes)
    }
}
