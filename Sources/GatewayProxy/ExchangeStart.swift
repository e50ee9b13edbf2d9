import GatewayAuth
import GatewayCore

/// What the access log and metrics need to know about the request in progress.
struct ExchangeLogInfo {
    var requestId = ""
    var routeIndex: Int?
    var auth = "none"
    var shop: String?
    /// The normalized path (no query) once the gate has normalized it.
    var path: String?
    /// The trace id of the request's valid W3C `traceparent`.
    var traceId: String?
    /// The access log's client when it is not the peer: the first untrusted address from the right of
    /// `X-Forwarded-For` + peer, for a peer in `trusted_proxies`.
    var client: String?

    /// An answer of the gateway's own names its refusal in the log's `auth` field when it is about the token or
    /// the replay store (`token_expired`, `replay_store_unavailable`...).
    mutating func note(_ a: GatewayAnswer) {
        if a.status == 401 || a.status == 403 || a.code == GatewayErrorCode.replayStoreUnavailable.rawValue
            || a.code == GatewayErrorCode.replayStoreFull.rawValue {
            auth = a.code
        }
    }
}

/// How a request head was taken up: answered by the gateway at once, or handed to a new exchange.
enum ExchangeStart {
    /// Answer the client; nothing was forwarded.
    case answer(GatewayAnswer, requestId: String, origin: String?)
    /// Forward: the caller keeps the exchange, then calls `begin()` (which may already call back into it).
    case exchange(ProxyExchange)
}

extension LoopState {
    /// The one start of every exchange, HTTP/1.1 and HTTP/2 alike: the gate's decision, the log fields, the declared
    /// body size, the route's upstream target and the exchange itself. HTTP/2 extended CONNECT is rewritten here into
    /// the HTTP/1.1 upgrade the upstream understands.
    func startExchange(_ head: consuming HTTPRequestHead, client: ClientInfo, downstream: any ExchangeDownstream,
                       log: inout ExchangeLogInfo) -> ExchangeStart {
        let snap = snapshot
        log.traceId = TraceParent.traceId(in: head.headers)
        var client = client
        let trusted = snap.trustedProxies(listener: client.listener)
        if !trusted.isEmpty && trusted.contains(client.remoteAddress) {
            client.peerTrusted = true
            let chain = TrustedProxies.entries(head.headers.all(named: "x-forwarded-for"))
            log.client = trusted.clientAddress(forwardedFor: chain, peer: client.remoteAddress)
        }
        let declared: Int?
        if case .contentLength(let n) = head.framing { declared = n } else { declared = nil }
        switch snap.gate.evaluate(consume head, client: client, tokenCache: tokenCache(for: snap)) {
        case .answer(let a):
            log.routeIndex = a.routeIndex
            log.requestId = a.requestId
            return .answer(a.answer, requestId: a.requestId, origin: a.origin)
        case .forward(let plan):
            log.requestId = plan.requestId
            log.routeIndex = plan.routeIndex
            log.shop = plan.verdict?.shopDomain
            log.path = LoopState.pathOnly(plan.head.target)
            log.auth = plan.authOutcome
            if let declared, declared > snap.config.limits.maxBodyBytes {
                return .answer(.error(.bodyTooLarge), requestId: plan.requestId, origin: plan.origin)
            }
            guard let target = snap.target(forRoute: plan.routeIndex) else {
                return .answer(.error(.upstreamUnavailable), requestId: plan.requestId, origin: plan.origin)
            }
            if plan.isWebSocketUpgrade && plan.head.version == .http2 {
                LoopState.rewriteExtendedConnect(&plan.head)
            }
            // Moved in: the locals were retained for the exchange and released at the end of the scope.
            return .exchange(ProxyExchange(downstream: downstream, loopState: self, snapshot: consume snap,
                                           plan: consume plan, target: consume target))
        }
    }

    /// RFC 8441 to RFC 6455: the upstream gets an HTTP/1.1 `GET` upgrade with a key of our own when the client
    /// sent none (HTTP/2 clients do not).
    static func rewriteExtendedConnect(_ head: inout HTTPRequestHead) {
        head.method = "GET"
        head.framing = .none
        head.extendedProtocol = nil
        head.headers.append(name: "Connection", value: "Upgrade")
        head.headers.append(name: "Upgrade", value: "websocket")
        if !head.headers.contains(named: "Sec-WebSocket-Key") {
            var g = SystemRandomNumberGenerator()
            let key = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
            head.headers.append(name: "Sec-WebSocket-Key", value: Base64.encode(key))
        }
        if !head.headers.contains(named: "Sec-WebSocket-Version") {
            head.headers.append(name: "Sec-WebSocket-Version", value: "13")
        }
    }
}
