import GatewayAuth
import GatewayCore

/// Who sent the request, as the engine knows it from the connection.
public struct ClientInfo: Sendable {
    /// The peer IP only (no port): `203.0.113.7`, `2001:db8::1`.
    public var remoteAddress: String
    /// Whether the client connection is TLS (sets `X-Forwarded-Proto`).
    public var isTLS: Bool
    /// Index of the listener the connection came in on (selects its `trusted_proxies`); -1 for none.
    public var listener: Int
    /// The peer is in the listener's `trusted_proxies`: its `X-Forwarded-*` fields are kept (set by the exchange start).
    public var peerTrusted: Bool

    public init(remoteAddress: String, isTLS: Bool, listener: Int = -1, peerTrusted: Bool = false) {
        self.remoteAddress = remoteAddress
        self.isTLS = isTLS
        self.listener = listener
        self.peerTrusted = peerTrusted
    }
}

/// A `(aud, jti)` pair the engine must admit in the replay store before forwarding (a second use is `token_replayed`).
public struct ReplayTicket: Sendable, Equatable {
    /// The app's client id (`aud`).
    public var app: String
    public var jti: String
    /// Unix seconds until which the pair is remembered: `exp + clock_skew`.
    public var until: Int64

    public init(app: String, jti: String, until: Int64) {
        self.app = app
        self.jti = jti
        self.until = until
    }
}

/// Everything the engine needs to forward an admitted request.
///
/// A class: the exchange, the stream and the log all read it, and as a struct of a dozen references every copy cost a
/// retain per field. Made by the gate, then owned by one loop.
public final class ForwardPlan {
    /// Index into `config.routes`.
    public let routeIndex: Int
    /// The route's upstream name.
    public let upstream: String
    /// The rewritten head, ready to serialize: normalized target, identity and forwarding fields set, hop-by-hop,
    /// `Content-Length` and `Transfer-Encoding` removed (the engine re-adds framing from `head.framing`).
    public var head: HTTPRequestHead
    /// Non-nil when the route is single-use: admit it before forwarding.
    public let replay: ReplayTicket?
    /// The accepted token's verdict; nil for anonymous requests and `auth: none` routes.
    public let verdict: TokenVerdict?
    public let requestId: String
    /// HTTP/1.1 `Upgrade: websocket` (kept and re-added) or HTTP/2 extended CONNECT with `:protocol websocket`.
    public let isWebSocketUpgrade: Bool
    /// The request's `Origin`, for `CorsPolicy.responseHeaders(origin:)` on the forwarded response.
    public let origin: String?
    /// For the access log: `none` (route without auth), `anonymous` (optional, no token) or `accepted`.
    public let authOutcome: String
    /// The rewritten head still has an `Expect` field, which the gateway answers itself (found by the gate's one
    /// pass over the fields, so exchanges without one never look for it).
    public let hasExpect: Bool
    /// The client named no host at all (an HTTP/1.0 request without `Host`): the engine adds the upstream server's
    /// `host:port`, since the upstream hop is HTTP/1.1, where `Host` is required (RFC 9112 3.2).
    public let lacksHost: Bool

    public init(routeIndex: Int, upstream: String, head: HTTPRequestHead, replay: ReplayTicket?, verdict: TokenVerdict?,
                requestId: String, isWebSocketUpgrade: Bool, origin: String?, authOutcome: String,
                hasExpect: Bool = false, lacksHost: Bool = false) {
        self.routeIndex = routeIndex
        self.upstream = upstream
        self.head = head
        self.replay = replay
        self.verdict = verdict
        self.requestId = requestId
        self.isWebSocketUpgrade = isWebSocketUpgrade
        self.origin = origin
        self.authOutcome = authOutcome
        self.hasExpect = hasExpect
        self.lacksHost = lacksHost
    }
}

/// An answer the gate makes itself, with what the engine needs to send and log it.
///
/// A class, so that a decision carries one reference in either case: with the answer's dozen fields inline, each
/// decision the gate handed back was copied and destroyed through the enum's value witnesses, about 1% of the
/// gateway's user time on forwarded requests, which never use the answer.
public final class GateAnswer {
    public let answer: GatewayAnswer
    public let requestId: String
    /// The request's `Origin` when the engine must still add `CorsPolicy.responseHeaders(origin:)`; nil for
    /// preflight answers, which carry their own CORS fields.
    public let origin: String?
    /// Nil when no route was matched.
    public let routeIndex: Int?

    public init(_ answer: GatewayAnswer, requestId: String, origin: String?, routeIndex: Int?) {
        self.answer = answer
        self.requestId = requestId
        self.origin = origin
        self.routeIndex = routeIndex
    }
}

/// What the gate decided for one request head.
public enum GateDecision {
    /// Answer the client directly.
    case answer(GateAnswer)
    /// Forward upstream as planned.
    case forward(ForwardPlan)

    public static func answer(_ answer: GatewayAnswer, requestId: String, origin: String?, routeIndex: Int?) -> GateDecision {
        .answer(GateAnswer(answer, requestId: requestId, origin: origin, routeIndex: routeIndex))
    }
}
