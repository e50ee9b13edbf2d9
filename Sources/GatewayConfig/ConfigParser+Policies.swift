import GatewayCore
import Yams

/// identity_headers, cors, limits, shutdown, logging, and the checks that span sections.
extension ConfigParser {
    func identityHeaders(_ node: Node, _ path: String) -> IdentityHeadersConfig {
        var config = IdentityHeadersConfig()
        let keys = ["shop_domain", "customer_id", "customer_id_format", "staff_user_id", "client_id", "forward_token"]
        guard let f = fields(node, path, allowed: keys) else { return config }
        if let n = f["shop_domain"], let v = headerName(n, f.child("shop_domain")) { config.shopDomain = v }
        if let n = f["customer_id"], let v = headerName(n, f.child("customer_id")) { config.customerId = v }
        if let n = f["customer_id_format"], let v = choice(n, f.child("customer_id_format"), as: CustomerIdFormat.self) {
            config.customerIdFormat = v
        }
        if let n = f["staff_user_id"], let v = headerName(n, f.child("staff_user_id")) { config.staffUserId = v }
        if let n = f["forward_token"], let v = bool(n, f.child("forward_token")) { config.forwardToken = v }
        let names = [config.shopDomain, config.customerId, config.staffUserId].map { $0.lowercased().replacingUnderscores() }
        if Set(names).count != names.count {
            error(f.mark, path, "shop_domain, customer_id and staff_user_id must be different headers")
        }
        // "" turns it off (the default), so unlike the others an empty value is no error.
        if let n = f["client_id"], let text = string(n, f.child("client_id")), !text.isEmpty,
           let v = headerName(n, f.child("client_id")) {
            config.clientId = v
            if names.contains(v.lowercased().replacingUnderscores()) {
                error(n, f.child("client_id"), "'\(v)' must differ from shop_domain, customer_id and staff_user_id")
            }
        }
        return config
    }

    func cors(_ node: Node, _ path: String) -> CorsConfig {
        var config = CorsConfig()
        let keys = ["enabled", "allow_origins", "allow_headers", "expose_headers", "max_age"]
        guard let f = fields(node, path, allowed: keys) else { return config }
        if let n = f["enabled"], let v = bool(n, f.child("enabled")) { config.enabled = v }
        if let n = f["allow_origins"], let v = stringList(n, f.child("allow_origins")) { config.allowOrigins = v }
        if let n = f["allow_headers"], let v = headerNames(n, f.child("allow_headers")) { config.allowHeaders = v }
        if let n = f["expose_headers"], let v = headerNames(n, f.child("expose_headers")) { config.exposeHeaders = v }
        if let n = f["max_age"], let v = duration(n, f.child("max_age"), positive: false) { config.maxAge = v }
        return config
    }

    func limits(_ node: Node, _ path: String) -> LimitsConfig {
        var config = LimitsConfig()
        let keys = ["max_header_bytes", "max_body_bytes", "header_timeout", "keepalive_timeout", "max_connections",
                    "tunnel_idle_timeout"]
        guard let f = fields(node, path, allowed: keys) else { return config }
        if let n = f["max_header_bytes"], let v = size(n, f.child("max_header_bytes")) { config.maxHeaderBytes = v }
        if let n = f["max_body_bytes"], let v = size(n, f.child("max_body_bytes")) { config.maxBodyBytes = v }
        if let n = f["header_timeout"], let v = duration(n, f.child("header_timeout"), positive: true) { config.headerTimeout = v }
        if let n = f["keepalive_timeout"], let v = duration(n, f.child("keepalive_timeout"), positive: true) { config.keepaliveTimeout = v }
        if let n = f["max_connections"], let v = int(n, f.child("max_connections"), minimum: 1) { config.maxConnections = v }
        if let n = f["tunnel_idle_timeout"], let v = duration(n, f.child("tunnel_idle_timeout"), positive: true) {
            config.tunnelIdleTimeout = v
        }
        return config
    }

    func shutdown(_ node: Node, _ path: String) -> ShutdownConfig {
        var config = ShutdownConfig()
        guard let f = fields(node, path, allowed: ["readiness_grace", "drain_timeout"]) else { return config }
        if let n = f["readiness_grace"], let v = duration(n, f.child("readiness_grace"), positive: false) { config.readinessGrace = v }
        if let n = f["drain_timeout"], let v = duration(n, f.child("drain_timeout"), positive: false) { config.drainTimeout = v }
        return config
    }

    func logging(_ node: Node, _ path: String) -> LoggingConfig {
        var config = LoggingConfig()
        guard let f = fields(node, path, allowed: ["level", "format"]) else { return config }
        if let n = f["level"], let v = choice(n, f.child("level"), as: LogLevel.self) { config.level = v }
        if let n = f["format"], let v = choice(n, f.child("format"), as: LogFormat.self) { config.format = v }
        return config
    }

    // MARK: Header names

    func headerName(_ node: Node, _ path: String) -> String? {
        guard let name = nonEmptyString(node, path) else { return nil }
        guard name.unicodeScalars.allSatisfy(Self.isTokenChar) else {
            error(node, path, "'\(name)' is not a valid header name")
            return nil
        }
        return name
    }

    private func headerNames(_ node: Node, _ path: String) -> [String]? {
        guard let items = sequence(node, path) else { return nil }
        let names = items.enumerated().compactMap { headerName($1, path.item($0)) }
        return names.count == items.count ? names : nil
    }

    // MARK: Across sections

    /// Checks that need more than one section: route upstreams, apps for authenticated routes, unused upstreams.
    func crossCheck(_ config: GatewayConfig, root: Fields, routes: [ParsedRoute]) {
        let upstreamNames = Set(config.upstreams.map(\.name))
        let upstreamsValid = root["upstreams"].map { node -> Bool in
            if case .sequence(let items) = node { return items.count == config.upstreams.count }
            return false
        } ?? true
        // A broken apps section already has its errors; naming its apps unknown as well would only add noise.
        let appsValid = root["apps"].map { node -> Bool in
            if case .sequence(let items) = node { return items.count == config.apps.count }
            return isNull(node)
        } ?? true
        var reportedNoApps = false
        for parsed in routes {
            if upstreamsValid, !upstreamNames.contains(parsed.route.upstream) {
                let known = upstreamNames.isEmpty ? "none are defined" : "known: \(upstreamNames.sorted().joined(separator: ", "))"
                error(parsed.upstreamNode?.mark ?? parsed.mark, parsed.path.key("upstream"),
                      "unknown upstream '\(parsed.route.upstream)' (\(known))")
            }
            if parsed.route.auth != .none, isAbsentOrEmpty(root["apps"]), !reportedNoApps {
                reportedNoApps = true
                error(parsed.authMark, parsed.path.key("auth"),
                      "auth \(parsed.route.auth.rawValue) needs at least one app under apps")
            }
            if parsed.route.requireCustomer, parsed.route.auth == .none {
                warning(parsed.authMark, parsed.path.key("require_customer"), "has no effect with auth none")
            }
            if appsValid { checkRouteApps(parsed, known: config.apps.map(\.clientId)) }
        }
        if !config.identityHeaders.clientId.isEmpty { checkClientIdsFitAHeader(config, root: root) }
        if routes.isEmpty, isAbsentOrEmpty(root["routes"]) {
            warning(root["routes"]?.mark ?? root.mark, "routes", "no routes: every request is answered 404 no_route")
        }
        let used = Set(config.routes.map(\.upstream))
        if let node = root["upstreams"], case .sequence(let items) = node {
            for (i, upstream) in config.upstreams.enumerated() where !used.contains(upstream.name) && i < items.count {
                warning(items[i].mark, "upstreams".item(i), "upstream '\(upstream.name)' is not used by any route")
            }
        }
    }

    /// Every `routes[N].apps[M]` must be the client_id of a configured app.
    private func checkRouteApps(_ parsed: ParsedRoute, known: [String]) {
        var reported: Set<String> = []
        for (i, id) in parsed.appIds.enumerated() where !known.contains(id) && reported.insert(id).inserted {
            let listed = known.isEmpty ? "no apps are configured" : "known: \(known.joined(separator: ", "))"
            let mark = i < parsed.appNodes.count ? parsed.appNodes[i].mark : parsed.mark
            error(mark, parsed.path.key("apps").item(i), "'\(id)' names no app under apps (\(listed))")
        }
    }

    /// With `identity_headers.client_id` set, each client id becomes a header value, so it must be visible ASCII
    /// (no space, no control), as every claim value the gateway injects is.
    private func checkClientIdsFitAHeader(_ config: GatewayConfig, root: Fields) {
        guard let node = root["apps"], case .sequence(let items) = node else { return }
        for (i, item) in items.enumerated() {
            guard let idNode = item["client_id"], let id = idNode.string,
                  id.utf8.contains(where: { $0 < 0x21 || $0 > 0x7E }) else { continue }
            error(idNode, "apps".item(i).key("client_id"),
                  "'\(id)' cannot be sent in identity_headers.client_id: only visible ASCII (no spaces) fits a header value")
        }
    }

    /// Absent, null or `[]`: nothing was written, as opposed to items that failed to parse.
    private func isAbsentOrEmpty(_ node: Node?) -> Bool {
        guard let node else { return true }
        if isNull(node) { return true }
        if case .sequence(let items) = node { return items.isEmpty }
        return false
    }
}

extension String {
    /// CGI-style backends read `_` as `-`, so two header names differing only there are the same header.
    func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}
