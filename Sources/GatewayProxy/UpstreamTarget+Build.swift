import GatewayConfig
import GatewayCore
import GatewayLoop
import GatewayTLS

extension UpstreamTarget {
    /// What one `upstreams[].servers` entry is: an address that never changes (an IP literal, `unix:PATH`), or a
    /// host name looked up at load and every `resolve_interval`.
    enum ServerEntry: Equatable {
        case fixed(SocketAddress)
        case name(HostPort)
    }

    /// Classifies a server as written; nil for text `check` would refuse.
    static func entry(_ server: String) -> ServerEntry? {
        if server.hasPrefix("unix:") { return (try? SocketAddress.resolve(server)).map { .fixed($0) } }
        guard let hostPort = HostPort.parse(server) else { return nil }
        // `SocketAddress(parsing:)` reads `localhost` as 127.0.0.1; here it is a name like any other.
        if hostPort.host != "localhost", let literal = try? SocketAddress(parsing: server) { return .fixed(literal) }
        return .name(hostPort)
    }

    /// The target for `u`, a name's entry repeated once per address in `names`.
    static func build(_ u: UpstreamConfig, tls: TLSContext?, names: ResolvedNames) -> UpstreamTarget {
        var addresses: [SocketAddress] = []
        var serverNames: [String] = []
        var keys: [String] = []
        var hostNames: [HostPort] = []
        for s in u.servers {
            switch entry(s) {
            case .fixed(let a)?:
                addresses.append(a)
                serverNames.append(s)
                keys.append(s)
            case .name(let host)?:
                if !hostNames.contains(host) { hostNames.append(host) }
                for a in names.addresses[host] ?? [] {
                    addresses.append(a)
                    serverNames.append(s)
                    // Per address: its own idle connections, budget and rest.
                    keys.append("\(s)@\(a)")
                }
            case nil:
                continue
            }
        }
        var tlsServerNames: [String] = []
        if let t = u.tls {
            tlsServerNames = serverNames.map { t.serverName ?? RuntimeSnapshot.host(of: $0) }
            keys = zip(keys, tlsServerNames).map { key, name in RuntimeSnapshot.tlsPoolKey(server: key, serverName: name, tls: t) }
        }
        return UpstreamTarget(name: u.name, servers: addresses, serverNames: serverNames, poolKeys: keys,
                              connectTimeout: u.connectTimeout, responseTimeout: u.responseTimeout,
                              idleTimeout: u.idleTimeout, maxIdleConnections: u.maxIdleConnections,
                              maxConnections: u.maxConnections, queueTimeout: u.queueTimeout, tls: tls,
                              tlsServerNames: tlsServerNames, source: u, hostNames: hostNames)
    }
}
