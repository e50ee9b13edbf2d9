import GatewayAuth
import GatewayConfig
import GatewayCore
import GatewayHTTP1
import GatewayLoop
import GatewayTLS

/// Process-wide numbers for pool keys, handed out as configs are loaded and never reused: a pool indexes its
/// servers by number instead of hashing the key string three times per request, and a key keeps its number (and
/// its idle connections) across reloads.
enum PoolSlots {
    private static let numbers = Locked([String: Int]())

    static func slot(for key: String) -> Int {
        numbers.withLock { table in
            if let n = table[key] { return n }
            let n = table.count
            table[key] = n
            return n
        }
    }
}

/// One upstream of the config with its servers resolved to addresses: a server given by host name stands for one
/// entry per address it resolves to, each with its own pool key, budget and rest.
public final class UpstreamTarget: Sendable {
    public let name: String
    public let servers: [SocketAddress]
    /// The config it was built from (nil for one made directly), to rebuild it when a name's addresses change.
    let source: UpstreamConfig?
    /// The host names among its servers, looked up again every `resolve_interval`.
    let hostNames: [HostPort]
    public let serverNames: [String]
    /// Per server: the `Host` sent when the client gave none (the server as written; `localhost` for a Unix socket).
    let hostHeaders: [String]
    /// Per server: its key in the keep-alive pool. Plain and TLS (and TLS with another name, CA or verify setting) to
    /// the same `host:port` are different connections and must never be handed to each other.
    public let poolKeys: [String]
    /// Per server: the number of its pool key (`PoolSlots`), what the per-loop pools index by.
    let poolSlots: [Int]
    public let connectTimeout: TimeSpan
    public let responseTimeout: TimeSpan
    public let idleTimeout: TimeSpan
    public let maxIdleConnections: Int
    /// `max_connections`: open connections per server in this process, counted in `budgets`.
    public let maxConnections: Int
    /// `queue_timeout`: how long an exchange waits for a connection under `maxConnections`.
    public let queueTimeout: TimeSpan
    /// Per server: its process-wide connection count (shared with every other target naming the same pool key).
    let budgets: [ServerBudget]
    /// `upstreams[].tls`: the client context (CA, verify) shared by every connection to this upstream.
    public let tls: TLSContext?
    /// Per server: the name sent as SNI and checked against its certificate (`server_name`, else the host).
    public let tlsServerNames: [String]

    public convenience init(name: String, servers: [SocketAddress], serverNames: [String], poolKeys: [String], connectTimeout: TimeSpan,
                responseTimeout: TimeSpan, idleTimeout: TimeSpan, maxIdleConnections: Int, maxConnections: Int = 512,
                queueTimeout: TimeSpan = .seconds(2), tls: TLSContext? = nil, tlsServerNames: [String] = []) {
        self.init(name: name, servers: servers, serverNames: serverNames, poolKeys: poolKeys, connectTimeout: connectTimeout,
                  responseTimeout: responseTimeout, idleTimeout: idleTimeout, maxIdleConnections: maxIdleConnections,
                  maxConnections: maxConnections, queueTimeout: queueTimeout, tls: tls, tlsServerNames: tlsServerNames,
                  source: nil, hostNames: [])
    }

    init(name: String, servers: [SocketAddress], serverNames: [String], poolKeys: [String], connectTimeout: TimeSpan,
         responseTimeout: TimeSpan, idleTimeout: TimeSpan, maxIdleConnections: Int, maxConnections: Int,
         queueTimeout: TimeSpan, tls: TLSContext?, tlsServerNames: [String], source: UpstreamConfig?, hostNames: [HostPort]) {
        self.source = source
        self.hostNames = hostNames
        self.name = name
        self.servers = servers
        self.serverNames = serverNames
        hostHeaders = serverNames.map(RuntimeSnapshot.hostHeader(for:))
        self.poolKeys = poolKeys
        poolSlots = poolKeys.map(PoolSlots.slot(for:))
        budgets = poolSlots.map(ServerBudgets.budget(forSlot:))
        self.maxConnections = max(1, maxConnections)
        self.queueTimeout = queueTimeout
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.idleTimeout = idleTimeout
        self.maxIdleConnections = maxIdleConnections
        self.tls = tls
        self.tlsServerNames = tlsServerNames
    }
}

/// Everything built from one `gateway.yaml`: swapped whole on reload, read by new requests only.
public final class RuntimeSnapshot: Sendable {
    public let config: GatewayConfig
    public let verifier: TokenVerifier
    public let gate: RequestGate
    public let cors: CorsPolicy
    public let upstreams: [UpstreamTarget]
    /// The upstream of each route, by route index (nil for a name `check` would reject): no string lookup per request.
    let routeTargets: [Int?]
    public let parserLimits: HTTP1Limits
    public let generation: Int
    /// One server context per listener, in config order; nil for a plain listener.
    public let listenerTLS: [TLSContext?]
    /// The addresses of the host names among the upstream servers, as this snapshot uses them.
    let names: ResolvedNames
    /// Every pool slot some server of this snapshot uses: idle connections to any other slot are closed.
    let poolSlotSet: Set<Int>

    public enum BuildError: Error, CustomStringConvertible {
        case unresolvable(upstream: String, server: String)
        case tls(where: String, reason: String)
        public var description: String {
            switch self {
            case .unresolvable(let u, let s): return "upstreams.\(u): cannot resolve \(s)"
            case .tls(let w, let r): return "\(w): \(r)"
            }
        }
    }

    public init(config: GatewayConfig, clock: any Clock, generation: Int,
                resolver: NameResolver = SocketAddress.systemResolver) throws(BuildError) {
        self.config = config
        self.generation = generation
        let apps = config.apps.map { app in
            AppKeys(clientId: app.clientId, secrets: app.secrets.map(\.bytes), shopPatterns: app.shops)
        }
        verifier = TokenVerifier(settings: VerifierSettings(apps: apps, clockSkew: config.token.clockSkew.seconds,
                                                            maxLifetime: config.token.maxLifetime.seconds),
                                 clock: clock)
        gate = RequestGate(config: config, verifier: verifier, clock: clock)
        cors = CorsPolicy(config.cors)
        var targets: [UpstreamTarget] = []
        var index: [String: Int] = [:]
        var found: [HostPort: [SocketAddress]] = [:]
        for u in config.upstreams {
            for s in u.servers {
                guard let entry = UpstreamTarget.entry(s) else { throw .unresolvable(upstream: u.name, server: s) }
                guard case .name(let host) = entry, found[host] == nil else { continue }
                guard let list = resolver(host.host, host.port), !list.isEmpty else {
                    throw .unresolvable(upstream: u.name, server: s)
                }
                found[host] = list
            }
        }
        names = ResolvedNames(found)
        for u in config.upstreams {
            index[u.name] = targets.count
            var tls: TLSContext?
            if let t = u.tls {
                do {
                    tls = try TLSContext.client(caFile: t.caFile, verify: t.verify)
                } catch {
                    throw .tls(where: "upstreams.\(u.name).tls", reason: error.reason)
                }
            }
            targets.append(UpstreamTarget.build(u, tls: tls, names: names))
        }
        var listenerContexts: [TLSContext?] = []
        for l in config.listeners {
            guard let t = l.tls else {
                listenerContexts.append(nil)
                continue
            }
            let paths = t.certificates.map { CertificatePaths(certificateChain: $0.certificateChain, privateKey: $0.privateKey) }
            do {
                listenerContexts.append(try TLSContext.server(certificates: paths))
            } catch {
                throw .tls(where: "listeners.\(l.address).tls", reason: error.reason)
            }
        }
        listenerTLS = listenerContexts
        upstreams = targets
        poolSlotSet = Set(targets.flatMap(\.poolSlots))
        routeTargets = config.routes.map { index[$0.upstream] }
        parserLimits = HTTP1Limits(maxHeaderBytes: config.limits.maxHeaderBytes)
    }

    /// The same snapshot with `names`' addresses: upstreams naming a host whose addresses changed are rebuilt, the
    /// rest (and everything else) is shared.
    func withNames(_ names: ResolvedNames) -> RuntimeSnapshot {
        let targets = upstreams.map { t -> UpstreamTarget in
            guard let source = t.source, t.hostNames.contains(where: { names.addresses[$0] != self.names.addresses[$0] })
            else { return t }
            return UpstreamTarget.build(source, tls: t.tls, names: names)
        }
        return RuntimeSnapshot(from: self, upstreams: targets, names: names)
    }

    private init(from old: RuntimeSnapshot, upstreams: [UpstreamTarget], names: ResolvedNames) {
        config = old.config
        generation = old.generation
        verifier = old.verifier
        gate = old.gate
        cors = old.cors
        self.upstreams = upstreams
        routeTargets = old.routeTargets
        parserLimits = old.parserLimits
        listenerTLS = old.listenerTLS
        self.names = names
        poolSlotSet = Set(upstreams.flatMap(\.poolSlots))
    }

    /// The upstream target a plan for route `routeIndex` goes to.
    func target(forRoute routeIndex: Int) -> UpstreamTarget? {
        guard routeIndex >= 0, routeIndex < routeTargets.count, let i = routeTargets[routeIndex] else { return nil }
        return upstreams[i]
    }

    /// The TLS context of listener `index`, nil when it is plain or unknown to this config.
    /// The `trusted_proxies` of listener `index`; empty for an index the config does not have.
    func trustedProxies(listener index: Int) -> TrustedProxies {
        index >= 0 && index < config.listeners.count ? config.listeners[index].trustedProxies : TrustedProxies()
    }

    func listenerTLSContext(_ index: Int) -> TLSContext? {
        index < listenerTLS.count ? listenerTLS[index] : nil
    }

    /// The pool key of a TLS upstream server: everything that decides what the connection was verified against.
    static func tlsPoolKey(server: String, serverName: String, tls: UpstreamTLSConfig) -> String {
        "tls://\(serverName)@\(server) ca=\(tls.caFile ?? "") verify=\(tls.verify)"
    }

    /// The `Host` for a server when the client sent none: a Unix socket has no host:port, so `localhost` (what curl
    /// and nginx send over one).
    static func hostHeader(for server: String) -> String {
        server.hasPrefix("unix:") ? "localhost" : server
    }

    /// The host part of `host:port` or `[v6]:port`; `localhost` for `unix:PATH`.
    static func host(of server: String) -> String {
        if server.hasPrefix("unix:") { return "localhost" }
        if server.hasPrefix("["), let close = server.firstIndex(of: "]") {
            return String(server[server.index(after: server.startIndex)..<close])
        }
        if let colon = server.lastIndex(of: ":") { return String(server[..<colon]) }
        return server
    }
}
