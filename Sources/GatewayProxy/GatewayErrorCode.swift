/// The answers the gateway makes itself that are not about the token: one case per contract code.
public enum GatewayErrorCode: String, Sendable, CaseIterable {
    case badRequest = "bad_request"
    case noRoute = "no_route"
    case requestTimeout = "request_timeout"
    case bodyTooLarge = "body_too_large"
    case headersTooLarge = "headers_too_large"
    /// 414; not in the contract's table, named after the status like the others.
    case uriTooLong = "uri_too_long"
    /// 501, for transfer codings the gateway does not implement.
    case notImplemented = "not_implemented"
    case upstreamUnavailable = "upstream_unavailable"
    case badUpstreamResponse = "bad_upstream_response"
    case replayStoreUnavailable = "replay_store_unavailable"
    case replayStoreFull = "replay_store_full"
    /// In the contract's table, but no longer sent: a request that arrives during the drain is served with
    /// `Connection: close` (the contract's drain rule), and new connections are refused by closing the listeners.
    case draining = "draining"
    /// 503: no upstream connection came free under `max_connections` within `queue_timeout`.
    case upstreamBusy = "upstream_busy"
    case upstreamTimeout = "upstream_timeout"

    /// The HTTP status the gateway answers with.
    public var status: Int {
        switch self {
        case .badRequest: return 400
        case .noRoute: return 404
        case .requestTimeout: return 408
        case .bodyTooLarge: return 413
        case .uriTooLong: return 414
        case .headersTooLarge: return 431
        case .notImplemented: return 501
        case .upstreamUnavailable, .badUpstreamResponse: return 502
        case .replayStoreUnavailable, .replayStoreFull, .draining, .upstreamBusy: return 503
        case .upstreamTimeout: return 504
        }
    }

    /// Human text for the JSON body.
    public var message: String {
        switch self {
        case .badRequest: return "The request is not valid HTTP or its target cannot be normalized."
        case .noRoute: return "No route matches this path and method."
        case .requestTimeout: return "The request was not received in time."
        case .bodyTooLarge: return "The request body exceeds the allowed size."
        case .headersTooLarge: return "The request header section exceeds the allowed size."
        case .uriTooLong: return "The request target is too long."
        case .notImplemented: return "The request uses a transfer coding the gateway does not implement."
        case .upstreamUnavailable: return "The upstream could not be reached."
        case .badUpstreamResponse: return "The upstream sent an invalid response."
        case .replayStoreUnavailable: return "The replay store is unavailable."
        case .replayStoreFull: return "The replay store is full."
        case .draining: return "The gateway is shutting down."
        case .upstreamBusy: return "The upstream has no free connection; try again shortly."
        case .upstreamTimeout: return "The upstream did not answer in time."
        }
    }
}
