import GatewayConfig
import GatewayCore

/// The `cors:` section turned into ready-made header values: preflight answers and the fields added to responses.
///
/// An origin is allowed when `allow_origins` holds `*` (then `Access-Control-Allow-Origin: *` is sent, which
/// browsers accept for `Origin: null` too) or the exact origin (ASCII case-insensitive; `null` may be listed).
/// A preflight from an origin that is not allowed still gets `204`, but with no `Access-Control-*` fields, so
/// the browser refuses the real request and nothing about the configuration leaks.
public struct CorsPolicy: Sendable {
    /// Methods announced by a preflight when the route has no `methods` list.
    public static let defaultAllowMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

    public let enabled: Bool
    private let anyOrigin: Bool
    private let origins: [[UInt8]]
    private let allowHeaders: String
    private let exposeHeaders: String
    private let maxAge: String

    public init(_ config: CorsConfig) {
        enabled = config.enabled
        anyOrigin = config.allowOrigins.contains("*")
        origins = config.allowOrigins.filter { $0 != "*" }.map { Array($0.utf8) }
        allowHeaders = config.allowHeaders.joined(separator: ", ")
        exposeHeaders = config.exposeHeaders.joined(separator: ", ")
        maxAge = String(max(0, config.maxAge.seconds))
    }

    /// True for `OPTIONS` with `Origin` and `Access-Control-Request-Method` while CORS is enabled.
    public func isPreflight(_ head: HTTPRequestHead) -> Bool {
        enabled && head.method == "OPTIONS" && head.headers.contains(named: "Access-Control-Request-Method")
            && head.headers.contains(named: "Origin")
    }

    /// The `204` answer to a preflight; `allowMethods` is the matched route's method list when it has one.
    public func preflightAnswer(for head: HTTPRequestHead, allowMethods: String? = nil) -> GatewayAnswer {
        preflightAnswer(origin: head.headers.first(named: "Origin"), allowMethods: allowMethods)
    }

    /// The `204` answer to a preflight from `origin`.
    public func preflightAnswer(origin: String?, allowMethods: String? = nil) -> GatewayAnswer {
        var headers: [(String, String)] = []
        if let allowed = allowOriginValue(origin) {
            headers.append(("Access-Control-Allow-Origin", allowed))
            headers.append(("Access-Control-Allow-Methods", allowMethods ?? CorsPolicy.defaultAllowMethods))
            if !allowHeaders.isEmpty { headers.append(("Access-Control-Allow-Headers", allowHeaders)) }
            headers.append(("Access-Control-Max-Age", maxAge))
        }
        headers.append(("Vary", "Origin"))
        return GatewayAnswer(status: 204, code: "", message: "", headers: headers)
    }

    /// Fields for gateway answers and forwarded responses to a request with `origin`; empty when there is no
    /// `Origin`, the origin is not allowed, or CORS is disabled.
    public func responseHeaders(origin: String?) -> [(String, String)] {
        guard let allowed = allowOriginValue(origin) else { return [] }
        var headers: [(String, String)] = [("Access-Control-Allow-Origin", allowed)]
        if !exposeHeaders.isEmpty { headers.append(("Access-Control-Expose-Headers", exposeHeaders)) }
        headers.append(("Vary", "Origin"))
        return headers
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, or nil when it gets none.
    public func allowOriginValue(_ origin: String?) -> String? {
        guard enabled, let origin else { return nil }
        if anyOrigin { return "*" }
        let bytes = origin.utf8
        for candidate in origins where ASCII.equalsIgnoringCase(candidate, bytes) { return origin }
        return nil
    }
}
