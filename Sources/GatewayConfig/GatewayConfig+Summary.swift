import GatewayCore

/// The human summary `session-gateway check` prints; secrets appear only as their source.
extension GatewayConfig {
    /// A multi-line description of the effective configuration, defaults included, never a secret value.
    public func summary() -> String {
        var lines: [String] = []
        lines.append("listeners:")
        for listener in listeners {
            let tls = listener.tls.map { "tls, \($0.certificates.count) certificate(s)" } ?? "plain HTTP/1.1 + h2c"
            var extra = ""
            if listener.proxyProtocol { extra += ", proxy_protocol" }
            if !listener.trustedProxies.isEmpty {
                extra += ", trusted_proxies " + listener.trustedProxies.ranges.map(\.description).joined(separator: " ")
            }
            lines.append("  \(listener.address) (\(tls)\(extra))")
        }
        lines.append("admin: \(admin?.address ?? "disabled")")
        lines.append("apps:")
        if apps.isEmpty { lines.append("  (none)") }
        for app in apps {
            let sources = app.secrets.map(\.description).joined(separator: ", ")
            lines.append("  \(app.clientId): \(app.secrets.count) secret(s) [\(sources)], shops \(app.shops.joined(separator: ", "))")
        }
        lines.append("token: clock_skew \(token.clockSkew), max_lifetime \(token.maxLifetime)")
        var replayLine = "replay: \(replay.mode.rawValue), store \(replay.store.rawValue)"
        switch replay.store {
        case .memory: replayLine += ", max_entries \(replay.maxEntries)"
        case .redis:
            replayLine += ", \(replay.redis.loginSummary), prefix \"\(replay.redis.keyPrefix)\", timeout \(replay.redis.timeout)"
                + ", on_unavailable \(replay.redis.onUnavailable.rawValue)"
        }
        lines.append(replayLine)
        lines.append("upstreams:")
        if upstreams.isEmpty { lines.append("  (none)") }
        for upstream in upstreams {
            var line = "  \(upstream.name): \(upstream.servers.joined(separator: ", "))"
            if let tls = upstream.tls {
                line += " (tls\(tls.serverName.map { " sni \($0)" } ?? "")\(tls.verify ? "" : ", verify off"))"
            }
            line += "; connect \(upstream.connectTimeout), response \(upstream.responseTimeout)"
                + ", idle \(upstream.idleTimeout), pool \(upstream.maxIdleConnections)"
                + ", max_connections \(upstream.maxConnections), queue_timeout \(upstream.queueTimeout)"
                + ", resolve_interval \(upstream.resolveInterval)"
            lines.append(line)
        }
        lines.append("routes (first match wins):")
        if routes.isEmpty { lines.append("  (none)") }
        for route in routes {
            let methods = route.methods?.joined(separator: ",") ?? "any method"
            var line = "  \(route.pathPrefix) [\(methods)] -> \(route.upstream), auth \(route.auth.rawValue)"
            if route.auth != .none {
                line += ", replay \((route.replay ?? replay.mode).rawValue)"
                if route.requireCustomer { line += ", customer required" }
                if let apps = route.apps { line += ", apps \(apps.joined(separator: ", "))" }
            }
            lines.append(line)
        }
        lines.append("identity_headers: \(identityHeaders.shopDomain), \(identityHeaders.customerId) "
            + "(\(identityHeaders.customerIdFormat.rawValue)), \(identityHeaders.staffUserId), "
            + (identityHeaders.clientId.isEmpty ? "" : "client_id \(identityHeaders.clientId), ")
            + "forward_token \(identityHeaders.forwardToken)")
        lines.append("cors: " + (cors.enabled
            ? "origins \(cors.allowOrigins.joined(separator: ", ")), max_age \(cors.maxAge)" : "disabled"))
        lines.append("limits: header \(ByteSize.format(limits.maxHeaderBytes)), body \(ByteSize.format(limits.maxBodyBytes))"
            + ", header_timeout \(limits.headerTimeout), keepalive \(limits.keepaliveTimeout)"
            + ", max_connections \(limits.maxConnections), tunnel_idle_timeout \(limits.tunnelIdleTimeout)")
        lines.append("shutdown: readiness_grace \(shutdown.readinessGrace), drain_timeout \(shutdown.drainTimeout)")
        lines.append("logging: \(logging.level.rawValue), \(logging.format.rawValue)")
        return lines.joined(separator: "\n")
    }
}

extension RedisConfig {
    /// `rediss+sentinel://user@h1:26379,h2:26379/main/0`, who logs in and where the password comes from, the mode and
    /// the TLS settings; never the password or the URL as written (which may hold it).
    var loginSummary: String {
        let endpoint: RedisEndpoint
        do { endpoint = try self.endpoint() } catch { return "redis (invalid: \(error))" }
        var text = "\(endpoint)"
        if endpoint.password != nil {
            text += ", AUTH as \(endpoint.username ?? "default")"
            text += ", password \(password.map(\.description) ?? "in url (redacted)")"
        } else {
            text += ", no AUTH"
        }
        text += ", \(endpoint.mode), tls \(endpoint.tls ? "on (\(tlsSummary))" : "off")"
        return text
    }

    /// The CA, the client certificate and the name checked, for a `rediss*://` URL.
    private var tlsSummary: String {
        var parts = ["ca \(tls?.caFile ?? "system store")"]
        if let chain = tls?.certificateChain { parts.append("client certificate \(chain)") }
        parts.append("server_name \(tls?.serverName ?? "each node's host")")
        return parts.joined(separator: ", ")
    }
}
