import GatewayAuth
import GatewayConfig
import GatewayCore

/// The per-request decision of the contract's steps 2-7: normalize, route, answer preflights, strip and check
/// headers, verify the token, and either answer or return the rewritten head to forward. Pure: no I/O.
/// A class, not a struct: each request calls into it through the snapshot, and a struct of this size was copied
/// (a retain per reference field) on every call.
public final class RequestGate: Sendable {
    /// A route's settings, resolved once per config. A class: taking a struct of two strings out of the array for
    /// each request copied it (a retain and a release per string).
    final class RouteRule: Sendable {
        let auth: AuthMode
        let requireCustomer: Bool
        let singleUse: Bool
        let upstream: String
        /// `Access-Control-Allow-Methods` for preflights on this route.
        let allowMethods: String?
        /// Client ids whose tokens may pass; nil lets every configured app through.
        let apps: [String]?

        init(auth: AuthMode, requireCustomer: Bool, singleUse: Bool, upstream: String, allowMethods: String?,
             apps: [String]? = nil) {
            self.auth = auth
            self.requireCustomer = requireCustomer
            self.singleUse = singleUse
            self.upstream = upstream
            self.allowMethods = allowMethods
            self.apps = apps
        }
    }

    public let router: Router
    public let cors: CorsPolicy
    let rules: [RouteRule]
    let verifier: any TokenChecking & Sendable
    let clockSkewSeconds: Int64
    let identity: IdentityHeadersConfig
    let names: HeaderNames
    /// Reads "now" for verdicts served from a `VerifiedTokenCache`.
    let clock: any Clock

    public init(config: GatewayConfig, verifier: any TokenChecking & Sendable, clock: any Clock = SystemClock()) {
        self.clock = clock
        router = Router(routes: config.routes)
        cors = CorsPolicy(config.cors)
        rules = config.routes.map { route in
            RouteRule(auth: route.requireCustomer ? .required : route.auth,
                      requireCustomer: route.requireCustomer,
                      singleUse: (route.replay ?? config.replay.mode) == .singleUse,
                      upstream: route.upstream,
                      allowMethods: route.methods.map { methods in
                          (methods.contains("OPTIONS") ? methods : methods + ["OPTIONS"]).joined(separator: ", ")
                      },
                      apps: route.apps)
        }
        self.verifier = verifier
        clockSkewSeconds = config.token.clockSkew.seconds
        identity = config.identityHeaders
        names = HeaderNames(identity: config.identityHeaders)
    }

    /// Decides what happens to one request head. With `tokenCache` (one per loop and config), a token accepted
    /// before is not verified again while it is within `exp + clock_skew`.
    public func evaluate(_ head: __owned HTTPRequestHead, client: ClientInfo,
                         tokenCache: VerifiedTokenCache? = nil) -> GateDecision {
        // Scanned while the head is an immutable parameter: scanning a mutable one copied its field arrays (a retain
        // and a release each) for the call.
        let scan = HeaderScan(head.headers)
        return decide(consume head, scan: scan, client: client, tokenCache: tokenCache)
    }

    /// `evaluate` once the fields are scanned: the head is then the gate's to rewrite.
    private func decide(_ head: consuming HTTPRequestHead, scan: borrowing HeaderScan, client: ClientInfo,
                        tokenCache: VerifiedTokenCache?) -> GateDecision {
        let origin = scan.origin.map { head.headers.value($0) }
        let requestId = RequestId.sanitized(scan.requestId.map { head.headers.value($0) }) ?? RequestId.generate()

        guard !isRefusedOutright(head, scan: scan), let target = PathNormalizer.normalize(head.target) else {
            return .answer(.error(.badRequest), requestId: requestId, origin: origin, routeIndex: nil)
        }

        let preflight = cors.enabled && origin != nil && scan.hasPreflightMethod && head.method == "OPTIONS"
        let matched = preflight ? router.matchIgnoringMethods(path: target.path)
                                : router.match(path: target.path, method: head.method)
        guard let routeIndex = matched else {
            return .answer(.error(.noRoute), requestId: requestId, origin: origin, routeIndex: nil)
        }
        let rule = rules[routeIndex]
        if preflight {
            return .answer(cors.preflightAnswer(origin: origin, allowMethods: rule.allowMethods),
                           requestId: requestId, origin: nil, routeIndex: routeIndex)
        }

        // Auth.
        var verdict: TokenVerdict? = nil
        var outcome = "none"
        if rule.auth != .none {
            if scan.authorizationCount > 1 {
                // Two tokens: the backend might read the one the gateway did not check.
                return .answer(.error(.badRequest), requestId: requestId, origin: origin, routeIndex: routeIndex)
            }
            var presented: Result<TokenVerdict, AuthFailure>? = nil
            if let index = scan.authorization {
                let range = head.headers.valueRange(index)
                presented = head.headers.storage.withUnsafeBufferPointer { all -> Result<TokenVerdict, AuthFailure>? in
                    let value = UnsafeBufferPointer(rebasing: all[range])
                    // A blank value carries no token: it counts as no header, not as a malformed token.
                    return AuthorizationHeader.isBlank(value) ? nil : verify(value, cache: tokenCache)
                }
            }
            if let result = presented {
                switch result {
                case .failure(let failure):
                    return .answer(.failure(failure, hadToken: true), requestId: requestId, origin: origin,
                                   routeIndex: routeIndex)
                case .success(let accepted):
                    verdict = accepted
                    outcome = "accepted"
                }
            } else if rule.auth == .required {
                return .answer(.failure(.missingToken, hadToken: false), requestId: requestId, origin: origin,
                               routeIndex: routeIndex)
            } else {
                outcome = "anonymous"
            }
        }

        var replay: ReplayTicket? = nil
        if let v = verdict {
            if let failure = checkVerdict(v, rule: rule) {
                return .answer(.failure(failure, hadToken: true), requestId: requestId, origin: origin,
                               routeIndex: routeIndex)
            }
            if rule.singleUse, let jti = v.jti {
                replay = ReplayTicket(app: v.clientId, jti: jti, until: v.expiresAt &+ clockSkewSeconds)
            }
        }

        let webSocket = isWebSocketRequest(head, scan: scan)
        injectHeaders(&head, verdict: verdict, webSocket: webSocket, scan: scan, client: client, requestId: requestId)
        head.target = target.originForm
        // Looked up again only when the scan saw one: the client's `Connection` may have named it for removal.
        let hasExpect = scan.hasExpect && head.headers.contains(named: "Expect")

        let plan = ForwardPlan(routeIndex: routeIndex, upstream: rule.upstream, head: head, replay: replay,
                               verdict: verdict, requestId: requestId, isWebSocketUpgrade: webSocket,
                               origin: origin, authOutcome: outcome, hasExpect: hasExpect,
                               lacksHost: !scan.hasHost && head.authority == nil)
        return .forward(plan)
    }

    private func verify(_ value: UnsafeBufferPointer<UInt8>, cache: VerifiedTokenCache?) -> Result<TokenVerdict, AuthFailure> {
        guard let cache else { return verifier.verify(authorizationBytes: value) }
        if let known = cache.verdict(for: value, now: clock.wallSeconds()) { return .success(known) }
        let result = verifier.verify(authorizationBytes: value)
        if case .success(let accepted) = result {
            let (until, overflow) = accepted.expiresAt.addingReportingOverflow(clockSkewSeconds)
            cache.store(accepted, for: value, validUntil: overflow ? Int64.max : until)
        }
        return result
    }

    /// Claim rules that depend on the route and on what gets injected; nil when the verdict may pass. Applied to
    /// cached verdicts too, so a token accepted on one route never passes another on the strength of the cache.
    private func checkVerdict(_ v: TokenVerdict, rule: RouteRule) -> AuthFailure? {
        // First, as in the verifier, where `aud` is read before any other claim: a token of another app is not for
        // this route at all.
        if let apps = rule.apps, !apps.contains(v.clientId) { return .unknownAudience }
        if rule.singleUse && v.jti == nil { return .missingClaim }
        // Values go into header fields: anything but visible ASCII is refused, whatever the verifier let through.
        guard v.identityIsFieldSafe else { return .malformedToken }
        if rule.requireCustomer && v.customerGID == nil { return .customerRequired }
        return nil
    }

    /// True for a head answered `400 bad_request` on any route, before routing:
    /// - a `CONNECT` that is not HTTP/2 extended CONNECT for `websocket` (nghttp2 lets a plain CONNECT and any
    ///   `:protocol` through): forwarded, it would reach the backend as a `CONNECT` over HTTP/1.1, a tunnel request
    ///   it never expects from a reverse proxy. HTTP/1.1's parser already refuses every `CONNECT`.
    /// - on HTTP/2, several `host` fields, or one naming another authority than `:authority` (RFC 9113 8.3.1 lets
    ///   both be sent, then they must agree): the gate fills `X-Forwarded-Host` from `:authority` while the backend,
    ///   which gets the client's `host`, might act on the other name.
    private func isRefusedOutright(_ head: borrowing HTTPRequestHead, scan: borrowing HeaderScan) -> Bool {
        if head.method == "CONNECT" && !isExtendedWebSocketConnect(head) { return true }
        guard head.version == .http2, let hostIndex = scan.host else { return false }
        if scan.hostCount > 1 { return true }
        guard let authority = head.authority else { return false }
        return !ASCII.equalsIgnoringCase(head.headers.valueBytes(hostIndex), authority.utf8)
    }

    /// HTTP/2 `CONNECT` with `:protocol websocket` (RFC 8441).
    private func isExtendedWebSocketConnect(_ head: borrowing HTTPRequestHead) -> Bool {
        guard head.version == .http2, head.method == "CONNECT", let proto = head.extendedProtocol else { return false }
        return ASCII.equalsIgnoringCase(proto.utf8, "websocket".utf8)
    }

    /// True for HTTP/1.1 `GET` with `Connection: upgrade` and an `Upgrade` listing `websocket`, or HTTP/2
    /// extended CONNECT with `:protocol websocket`.
    private func isWebSocketRequest(_ head: borrowing HTTPRequestHead, scan: HeaderScan) -> Bool {
        if head.version == .http2 { return isExtendedWebSocketConnect(head) }
        guard head.version == .http1_1, head.method == "GET", scan.connectionUpgrade, scan.upgradeWebSocket else {
            return false
        }
        return true
    }
}
