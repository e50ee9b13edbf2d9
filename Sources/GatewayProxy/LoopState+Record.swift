import GatewayCore

/// One finished exchange as the metrics and the access log see it, whatever protocol carried it.
struct ExchangeRecord {
    var info: ExchangeLogInfo
    var status: Int
    var startNanos: UInt64
    var exchange: ProxyExchange?
    var client: String
    var method: String
    /// The path without its query (Shopify puts id_token there); nil: derived from `target` when a line is written.
    var path: String?
    /// The request target as received ("-" when none was read).
    var target: String
    var bytesIn: Int
    var bytesOut: Int
    var protocolName: String
}

extension LoopState {
    /// Counts the exchange in the metrics and, at level info, writes its access-log line.
    func record(_ r: ExchangeRecord) {
        let snap = snapshot
        let now = loop.now()
        var route: String?
        if let i = r.info.routeIndex, i < snap.config.routes.count { route = snap.config.routes[i].pathPrefix }
        var upstreamNanos: UInt64 = 0
        if let ex = r.exchange, ex.upstreamStartNanos > 0, ex.upstreamHeadNanos > ex.upstreamStartNanos {
            upstreamNanos = ex.upstreamHeadNanos - ex.upstreamStartNanos
        }
        let rejected = r.status == 401 || r.status == 403
        metrics.request(route: route ?? "none", routeIndex: route == nil ? nil : r.info.routeIndex, config: snap,
                        status: r.status, durationNanos: now &- r.startNanos,
                        upstreamNanos: upstreamNanos, rejection: rejected ? r.info.auth : nil)
        guard server.accessLogEnabled else { return }
        logAccess(AccessLogRecord(
            time: Double(server.clock.wallMilliseconds()) / 1000,
            requestId: r.info.requestId,
            client: r.client,
            method: r.method,
            path: r.path ?? LoopState.pathOnly(r.target),
            route: route,
            status: r.status,
            auth: r.info.auth,
            shop: r.info.shop,
            upstream: r.exchange?.serverName,
            durationMs: Double(now &- r.startNanos) / 1e6,
            upstreamMs: r.exchange == nil ? nil : Double(upstreamNanos) / 1e6,
            bytesIn: r.bytesIn,
            bytesOut: r.bytesOut,
            protocol: r.protocolName))
    }

    /// `target` without its query.
    static func pathOnly(_ target: String) -> String {
        // Most targets have no query: hand back the same string instead of building a new one.
        guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        return String(target[..<q])
    }
}
