import GatewayAuth
import GatewayCore

/// What only the access-log line of a finished exchange needs, beyond what the metrics use.
struct AccessLogFields {
    var requestId: String
    var shop: String?
    var client: String
    var method: String
    /// The path without its query (Shopify puts id_token there); nil: derived from `target` when a line is written.
    var path: String?
    /// The request target as received ("-" when none was read).
    var target: String
    var bytesIn: Int
    var bytesOut: Int
    var protocolName: String
    /// From the request's valid `traceparent`.
    var traceId: String? = nil
}

extension LoopState {
    /// Counts the exchange in the metrics and, at level info, writes the access-log line `line` describes (built
    /// only then: most of its fields are copies made for the log alone).
    ///
    /// `auth` is the log's auth outcome (the rejection code on a 401 or 403). The caller's whole log info is not
    /// passed: read from a class property, it would be copied (a retain per string) on every exchange.
    func record(routeIndex: Int?, auth: String, status: Int, startNanos: UInt64, exchange ex: ProxyExchange?,
                line: () -> AccessLogFields) {
        let snap = snapshot
        let now = loop.now()
        let routes = snap.config.routes.count
        let matched = routeIndex.flatMap { $0 < routes ? $0 : nil }
        var upstreamNanos: UInt64 = 0
        if let ex, ex.upstreamStartNanos > 0, ex.upstreamHeadNanos > ex.upstreamStartNanos {
            upstreamNanos = ex.upstreamHeadNanos - ex.upstreamStartNanos
        }
        // The route's label is looked up only when a counter is made: the metrics cache counters by index.
        metrics.request(routeIndex: matched, config: snap, status: status, durationNanos: now &- startNanos,
                        upstreamNanos: upstreamNanos, rejection: LoopState.authRejection(status: status, auth: auth)) {
            matched.map { snap.config.routes[$0].pathPrefix } ?? "none"
        }
        guard accessLogEnabled else { return }
        let route = matched.map { snap.config.routes[$0].pathPrefix }
        let r = line()
        logAccess(AccessLogRecord(
            time: Double(server.clock.wallMilliseconds()) / 1000,
            requestId: r.requestId,
            client: r.client,
            method: r.method,
            path: r.path ?? LoopState.pathOnly(r.target),
            route: route,
            status: status,
            auth: auth,
            shop: r.shop,
            upstream: ex?.serverName,
            durationMs: Double(now &- startNanos) / 1e6,
            upstreamMs: ex == nil ? nil : Double(upstreamNanos) / 1e6,
            bytesIn: r.bytesIn,
            bytesOut: r.bytesOut,
            protocol: r.protocolName,
            traceId: r.traceId))
    }

    /// The `gateway_auth_rejections_total` reason for an exchange, or nil when it is not the gateway's own auth
    /// rejection.
    ///
    /// The status alone does not tell: an upstream's own 401 or 403 passes through with `auth` still `accepted`,
    /// `anonymous` or `none`, and counting it would charge the gateway's token checks with the backend's decisions.
    /// Only a 401 or 403 whose `auth` is a contract rejection code is the gateway's.
    static func authRejection(status: Int, auth: String) -> String? {
        guard status == 401 || status == 403, AuthFailure(rawValue: auth) != nil else { return nil }
        return auth
    }

    /// `target` without its query.
    static func pathOnly(_ target: String) -> String {
        // Most targets have no query: hand back the same string instead of building a new one.
        guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        return String(target[..<q])
    }
}
