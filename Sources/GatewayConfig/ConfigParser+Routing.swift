import GatewayCore
import Yams

/// A parsed route with the marks the cross-checks point at.
struct ParsedRoute {
    var route: RouteConfig
    var path: String
    var mark: Mark?
    var upstreamNode: Node?
    var authMark: Mark?
    /// The `apps` entries as written (duplicates included) and their nodes, for pointing at one that names no app.
    var appIds: [String] = []
    var appNodes: [Node] = []
}

/// token, replay, upstreams and routes.
extension ConfigParser {
    func token(_ node: Node, _ path: String) -> TokenConfig {
        var config = TokenConfig()
        guard let f = fields(node, path, allowed: ["clock_skew", "max_lifetime"]) else { return config }
        if let n = f["clock_skew"], let v = duration(n, f.child("clock_skew"), positive: false) { config.clockSkew = v }
        if let n = f["max_lifetime"], let v = duration(n, f.child("max_lifetime"), positive: true) { config.maxLifetime = v }
        return config
    }

    /// The section, or a bare `replay: off` / `replay: single-use` as shorthand for its mode.
    func replay(_ node: Node, _ path: String) -> ReplayConfig {
        var config = ReplayConfig()
        if case .scalar = node, !isNull(node) {
            if let mode = replayMode(node, path.key("mode")) { config.mode = mode }
            return config
        }
        guard let f = fields(node, path, allowed: ["mode", "store", "max_entries", "redis"]) else { return config }
        if let n = f["mode"], let v = replayMode(n, f.child("mode")) { config.mode = v }
        if let n = f["store"], let v = choice(n, f.child("store"), as: ReplayStoreKind.self) { config.store = v }
        if let n = f["max_entries"], let v = int(n, f.child("max_entries"), minimum: 1) { config.maxEntries = v }
        if let n = f["redis"] { config.redis = redis(n, f.child("redis")) }
        return config
    }

    // MARK: upstreams

    func upstreams(_ node: Node, _ path: String) -> [UpstreamConfig] {
        guard let items = sequence(node, path) else { return [] }
        var result: [UpstreamConfig] = []
        var seen: [String: Int] = [:]
        let keys = ["name", "servers", "tls", "connect_timeout", "response_timeout", "idle_timeout", "max_idle_connections",
                    "max_connections", "queue_timeout", "resolve_interval"]
        for (i, item) in items.enumerated() {
            guard let f = fields(item, path.item(i), allowed: keys) else { continue }
            let nameNode = required(f, "name")
            let name = nameNode.flatMap { nonEmptyString($0, f.child("name")) }
            if let name, let nameNode {
                if let first = seen[name] {
                    error(nameNode, f.child("name"), "duplicate upstream name '\(name)' (also upstreams[\(first)])")
                } else {
                    seen[name] = i
                }
            }
            let servers = required(f, "servers").flatMap { self.servers($0, f.child("servers")) }
            guard let name, let servers else { continue }
            var upstream = UpstreamConfig(name: name, servers: servers)
            if let n = f["tls"], !isNull(n) { upstream.tls = upstreamTLS(n, f.child("tls")) }
            if let n = f["connect_timeout"], let v = duration(n, f.child("connect_timeout"), positive: true) { upstream.connectTimeout = v }
            if let n = f["response_timeout"], let v = duration(n, f.child("response_timeout"), positive: true) { upstream.responseTimeout = v }
            if let n = f["idle_timeout"], let v = duration(n, f.child("idle_timeout"), positive: true) { upstream.idleTimeout = v }
            if let n = f["max_idle_connections"], let v = int(n, f.child("max_idle_connections"), minimum: 0) {
                upstream.maxIdleConnections = v
            }
            if let n = f["max_connections"], let v = int(n, f.child("max_connections"), minimum: 1) { upstream.maxConnections = v }
            if let n = f["queue_timeout"], let v = duration(n, f.child("queue_timeout"), positive: true) { upstream.queueTimeout = v }
            if let n = f["resolve_interval"], let v = duration(n, f.child("resolve_interval"), positive: true) {
                upstream.resolveInterval = v
            }
            result.append(upstream)
        }
        return result
    }

    private func servers(_ node: Node, _ path: String) -> [String]? {
        guard let items = sequence(node, path) else { return nil }
        guard !items.isEmpty else {
            error(node, path, "needs at least one server")
            return nil
        }
        let servers = items.enumerated().compactMap { i, item -> String? in
            if case .scalar(let scalar) = item, scalar.string.hasPrefix("unix:") { return unixServer(item, path.item(i)) }
            return address(item, path.item(i), allowPortZero: false)?.description
        }
        return servers.count == items.count ? servers : nil
    }

    /// `unix:PATH`: a relative path resolves against the config file's directory, as TLS files do; the result must
    /// fit `sun_path`. The socket need not exist yet (the app may start after the gateway): a missing one is a 502.
    private func unixServer(_ node: Node, _ path: String) -> String? {
        guard let text = nonEmptyString(node, path) else { return nil }
        let written = String(text.dropFirst("unix:".count))
        guard !written.isEmpty else {
            error(node, path, "unix: needs a socket path (unix:/run/app.sock)")
            return nil
        }
        guard !written.utf8.contains(0) else {
            error(node, path, "unix socket path contains a NUL byte")
            return nil
        }
        let resolved = resolve(written)
        let limit = 107  // sun_path is 108 bytes on Linux, NUL included
        guard resolved.utf8.count <= limit else {
            error(node, path, "unix socket path '\(resolved)' is \(resolved.utf8.count) bytes; at most \(limit) fit in sun_path")
            return nil
        }
        return "unix:" + resolved
    }

    func upstreamTLS(_ node: Node, _ path: String) -> UpstreamTLSConfig? {
        guard let f = fields(node, path, allowed: ["server_name", "ca_file", "verify"]) else { return nil }
        var config = UpstreamTLSConfig()
        if let n = f["server_name"] { config.serverName = nonEmptyString(n, f.child("server_name")) }
        if let n = f["ca_file"] { config.caFile = readableFile(n, f.child("ca_file"), what: "CA file") }
        if let n = f["verify"], let v = bool(n, f.child("verify")) { config.verify = v }
        return config
    }

    // MARK: routes

    func routes(_ node: Node, _ path: String) -> [ParsedRoute] {
        guard let items = sequence(node, path) else { return [] }
        let keys = ["path_prefix", "methods", "auth", "require_customer", "replay", "upstream", "apps"]
        var result: [ParsedRoute] = []
        for (i, item) in items.enumerated() {
            let itemPath = path.item(i)
            guard let f = fields(item, itemPath, allowed: keys) else { continue }
            let prefix = required(f, "path_prefix").flatMap { pathPrefix($0, f.child("path_prefix")) }
            let upstreamNode = required(f, "upstream")
            let upstream = upstreamNode.flatMap { nonEmptyString($0, f.child("upstream")) }
            guard let prefix, let upstream else { continue }
            var route = RouteConfig(pathPrefix: prefix, upstream: upstream)
            if let n = f["methods"] { route.methods = methods(n, f.child("methods")) }
            if let n = f["auth"], let v = choice(n, f.child("auth"), as: AuthMode.self) { route.auth = v }
            if let n = f["require_customer"], let v = bool(n, f.child("require_customer")) { route.requireCustomer = v }
            if let n = f["replay"] { route.replay = replayMode(n, f.child("replay")) }
            var appIds: [String] = []
            var appNodes: [Node] = []
            if let n = f["apps"] {
                if let ids = stringList(n, f.child("apps")), case .sequence(let items) = n {
                    // Kept even when the list is refused for a duplicate, so an unknown entry is reported in the same run.
                    appIds = ids
                    appNodes = Array(items)
                    route.apps = routeApps(ids, appNodes, n, f.child("apps"))
                }
                // With no token there is no app to restrict; accepting the key would promise a protection it does not give.
                if route.auth == .none {
                    error(f.mark(of: "apps"), f.child("apps"), "has nothing to restrict with auth none (no token is checked)")
                }
            }
            result.append(ParsedRoute(route: route, path: itemPath, mark: f.mark, upstreamNode: upstreamNode,
                                      authMark: f["auth"]?.mark ?? f.mark, appIds: appIds, appNodes: appNodes))
        }
        return result
    }

    private func pathPrefix(_ node: Node, _ path: String) -> String? {
        guard let text = nonEmptyString(node, path) else { return nil }
        guard text.hasPrefix("/") else {
            error(node, path, "must start with '/', found '\(text)'")
            return nil
        }
        guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0 == "?" || $0 == "#" }) else {
            error(node, path, "must not contain spaces, control characters, '?' or '#'")
            return nil
        }
        // Matching skips `;` parameters in the request path (servlet containers drop them), so a prefix holding
        // one would not mean what it says.
        guard !text.contains(";") else {
            error(node, path, "must not contain ';' (route matching skips ';' path parameters), found '\(text)'")
            return nil
        }
        return text
    }

    /// HTTP method tokens (RFC 9110 tchar), upper-cased; an empty list is an error (omit the key to allow all).
    private func methods(_ node: Node, _ path: String) -> [String]? {
        guard let names = stringList(node, path) else { return nil }
        guard !names.isEmpty else {
            error(node, path, "needs at least one method (omit methods to allow every method)")
            return nil
        }
        var result: [String] = []
        for (i, name) in names.enumerated() {
            if name.unicodeScalars.allSatisfy(Self.isTokenChar) {
                let upper = name.uppercased()
                if !result.contains(upper) { result.append(upper) }
            } else if case .sequence(let items) = node {
                error(items[i], path.item(i), "'\(name)' is not a valid HTTP method name")
            }
        }
        return result.count == Set(names.map { $0.uppercased() }).count ? result : nil
    }

    /// The client ids when each is listed once; an empty list is an error (omit the key to let every app through).
    private func routeApps(_ ids: [String], _ items: [Node], _ node: Node, _ path: String) -> [String]? {
        guard !ids.isEmpty else {
            error(node, path, "needs at least one client_id (omit apps to let every app through)")
            return nil
        }
        var seen: [String: Int] = [:]
        var ok = true
        for (i, id) in ids.enumerated() {
            if let first = seen[id] {
                error(items[i], path.item(i), "duplicate app '\(id)' (also \(path.item(first)))")
                ok = false
            } else {
                seen[id] = i
            }
        }
        return ok ? ids : nil
    }

    static func isTokenChar(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "!#$%&'*+-.^_`|~".unicodeScalars.contains(c)
    }
}
