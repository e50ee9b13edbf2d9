import GatewayAuth
import GatewayCore
import GatewayHTTP1
import GatewayLoop
import GatewayReplay

/// One request forwarded to an upstream and its response carried back, with back-pressure both ways.
final class ProxyExchange {
    enum Phase { case admitting, connecting, forwarding, tunnel, finished }

    /// Strong: an unowned reference cost a checked retain and a release on each use (six per request). The cycle
    /// (downstream, exchange) is broken by the downstream, which lets go of its exchange when the exchange finishes
    /// and when the client goes.
    let downstream: any ExchangeDownstream
    let loopState: LoopState
    /// Counted among the loop's live objects (debug builds).
    private let liveToken: LiveToken
    let snapshot: RuntimeSnapshot
    let plan: ForwardPlan
    let target: UpstreamTarget
    let method: String
    private(set) var phase: Phase = .admitting
    private(set) var upstream: UpstreamConnection?
    private var triedServers = TriedServers()
    private var retried = false
    private(set) var serverName: String?

    /// Request body bytes that arrived before the upstream was ready.
    private var pendingBody = ByteBuffer()
    private var requestBodyDone = false
    private var pendingRequestTrailers: HTTPHeaders?
    private let chunkedToUpstream: Bool
    /// Request bytes are kept for a retry only when there is no body.
    private let retryable: Bool
    private var sentExpectContinue = false

    private(set) var responseStarted = false
    private(set) var responseDone = false
    private(set) var status = 0
    private(set) var answerCode: String?
    private(set) var bodyBytesIn = 0
    private(set) var bytesOut = 0
    let startNanos: UInt64
    private(set) var upstreamStartNanos: UInt64 = 0
    private(set) var upstreamHeadNanos: UInt64 = 0
    private let isHeadRequest: Bool
    private var scratch: [UInt8] = []

    init(downstream: any ExchangeDownstream, loopState: LoopState, snapshot: RuntimeSnapshot, plan: ForwardPlan, target: UpstreamTarget) {
        self.downstream = downstream
        self.loopState = loopState
        self.snapshot = snapshot
        self.plan = plan
        self.target = target
        method = plan.head.method
        startNanos = loopState.loop.now()
        if case .chunked = plan.head.framing { chunkedToUpstream = true } else { chunkedToUpstream = false }
        isHeadRequest = method == "HEAD"
        if case .none = plan.head.framing { retryable = ProxyExchange.isIdempotent(method) } else { retryable = false }
        liveToken = LiveToken(loopState, .exchange)
    }

    /// RFC 9110 9.2.2. A switch, not `[...].contains`: the array literal was built and searched on every exchange.
    static func isIdempotent(_ method: String) -> Bool {
        switch method {
        case "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE": return true
        default: return false
        }
    }

    // MARK: starting

    /// Checks the replay store (when the route is single-use), then connects.
    func begin() {
        guard let ticket = plan.replay else {
            connect()
            return
        }
        let loop = loopState.loop
        let me = UnsafeTransfer(self)
        admissionPending = true
        loopState.replayStore.admit(app: ticket.app, jti: ticket.jti, until: ticket.until) { admission in
            if loop.inLoop {
                me.value.admitted(admission)
            } else {
                loop.execute { me.value.admitted(admission) }
            }
        }
        // Only a store that answers later (Redis) holds the request body back; the in-memory one has answered by now,
        // and suspending the read source for nothing would cost two epoll_ctl calls per request.
        if admissionPending {
            pausedForAdmission = true
            downstream.downstreamPauseRequestBody()
        }
    }

    private var admissionPending = false
    private var pausedForAdmission = false

    private func admitted(_ admission: ReplayAdmission) {
        admissionPending = false
        guard phase == .admitting else { return }
        switch admission {
        case .fresh:
            if pausedForAdmission { downstream.downstreamResumeRequestBody() }
            connect()
        case .replayed:
            answer(.failure(.tokenReplayed, hadToken: true))
        case .full:
            answer(.error(.replayStoreFull))
        case .unavailable:
            if snapshot.config.replay.redis.onUnavailable == .allow {
                if pausedForAdmission { downstream.downstreamResumeRequestBody() }
                connect()
            } else {
                answer(.error(.replayStoreUnavailable))
            }
        }
    }

    func connect() {
        phase = .connecting
        if upstreamStartNanos == 0 { upstreamStartNanos = loopState.loop.now() }
        guard let i = loopState.pool.pickServer(target, excluding: triedServers) else {
            answer(.error(.upstreamUnavailable))
            return
        }
        triedServers.insert(i)
        let slot = target.poolSlots[i]
        serverName = target.serverNames[i]
        if plan.lacksHost {
            // Named after the server actually tried: a retry on another server replaces it.
            plan.head.headers.replace(name: "Host", value: target.serverNames[i])
        }
        if let idle = loopState.pool.takeIdle(slot: slot) {
            attach(idle)
            return
        }
        let key = target.poolKeys[i]
        let limits = snapshot.parserLimits
        let me = UnsafeTransfer(self)
        let connectTimer = LoopTimer(loop: loopState.loop) { me.value.connectTimedOut(slot: slot) }
        connectTimer.arm(after: target.connectTimeout)
        pendingConnectTimer = connectTimer
        Connector.connect(to: target.servers[i], loop: loopState.loop) { [self] result in
            guard pendingConnectTimer === connectTimer, phase == .connecting else {
                // Timed out already, or the exchange ended: drop the late connection.
                connectTimer.disarm()
                if pendingConnectTimer === connectTimer { pendingConnectTimer = nil }
                if case .success(let ch) = result { ch.close() }
                return
            }
            switch result {
            case .success(let channel):
                if let tls = target.tls {
                    // The connect timer keeps running through the handshake.
                    handshakeTLS(channel, context: tls, serverName: target.tlsServerNames[i], serverKey: key, slot: slot,
                                 timer: connectTimer)
                    return
                }
                connectTimer.disarm()
                pendingConnectTimer = nil
                loopState.pool.markHealthy(slot: slot)
                attach(UpstreamConnection(transport: TransportChannel(channel: channel), serverKey: key, serverSlot: slot,
                                          limits: limits, loopState: loopState))
            case .failure:
                connectTimer.disarm()
                pendingConnectTimer = nil
                loopState.pool.markFailed(slot: slot)
                connect()
            }
        }
    }

    var pendingConnectTimer: LoopTimer?

    private func connectTimedOut(slot: Int) {
        guard phase == .connecting, pendingConnectTimer != nil else { return }
        pendingConnectTimer = nil
        loopState.pool.markFailed(slot: slot)
        connect()
    }

    func attach(_ c: UpstreamConnection) {
        upstream = c
        phase = .forwarding
        c.attach(self, method: method)
        // The loop's buffer, borrowed (moved out and back): the head is copied into the socket or its queue, so
        // one buffer serves every exchange on the loop instead of one allocation each.
        var headBytes = loopState.headScratch
        loopState.headScratch = []
        defer {
            headBytes.removeAll(keepingCapacity: headBytes.capacity <= 64 * 1024)
            loopState.headScratch = headBytes
        }
        if plan.isWebSocketUpgrade == false, plan.hasExpect {
            // We answer `Expect` ourselves; the upstream gets the body without waiting.
            var head = plan.head
            head.headers.removeAll(named: "Expect")
            if !sentExpectContinue && !requestBodyDone && head.version == .http1_1 {
                sentExpectContinue = true
                var interim = HTTPResponseHead(status: 100, reason: "Continue")
                interim.framing = .none
                downstream.downstreamInterim(interim)
            }
            HTTP1Serializer.writeRequestHead(head, addingFraming: true, into: &headBytes)
        } else {
            HTTP1Serializer.writeRequestHead(stored: &plan.head, addingFraming: true, into: &headBytes)
        }
        guard c.send(headBytes) else { return }
        c.timer.arm(after: target.responseTimeout)
        if !pendingBody.isEmpty {
            let body = pendingBody
            pendingBody.clear()
            body.withReadableBytes { sendBody($0) }
        }
        if requestBodyDone { sendBodyEnd() }
        // Body bytes that arrived while connecting paused the client; only a full upstream socket may keep it paused.
        if c.hasPendingOutput {
            downstream.downstreamPauseRequestBody()
        } else {
            downstream.downstreamResumeRequestBody()
        }
    }

    // MARK: request body from the client

    func requestBody(_ bytes: UnsafeRawBufferPointer) {
        bodyBytesIn += bytes.count
        guard phase == .forwarding, let c = upstream, !c.isClosed else {
            if phase == .admitting || phase == .connecting {
                pendingBody.write(bytes)
                downstream.downstreamPauseRequestBody()
            }
            return
        }
        sendBody(bytes)
        if c.hasPendingOutput { downstream.downstreamPauseRequestBody() }
    }

    func requestEnd(trailers: HTTPHeaders?) {
        requestBodyDone = true
        pendingRequestTrailers = trailers.map { TrailerFilter.filtered($0, identity: snapshot.config.identityHeaders) }
        if phase == .forwarding { sendBodyEnd() }
    }

    private func sendBody(_ bytes: UnsafeRawBufferPointer) {
        guard let c = upstream, !bytes.isEmpty else { return }
        if chunkedToUpstream {
            scratch.removeAll(keepingCapacity: true)
            HTTP1Serializer.writeChunkHeader(size: bytes.count, into: &scratch)
            scratch.append(contentsOf: bytes)
            scratch.append(contentsOf: HTTP1Serializer.chunkTerminator)
            c.send(scratch)
        } else {
            c.send(bytes)
        }
    }

    private func sendBodyEnd() {
        guard chunkedToUpstream, let c = upstream else { return }
        scratch.removeAll(keepingCapacity: true)
        HTTP1Serializer.writeLastChunk(trailers: pendingRequestTrailers, into: &scratch)
        c.send(scratch)
    }

    // MARK: tunnel bytes from the client

    func tunnelFromClient(_ bytes: UnsafeRawBufferPointer) {
        guard let c = upstream else { return }
        c.send(bytes)
        if c.hasPendingOutput { downstream.downstreamPauseRequestBody() }
    }

    // MARK: back-pressure

    /// The client drained its queued bytes: read the upstream again.
    func downstreamDrained() {
        upstream?.resumeReading()
    }

    // MARK: ending

    /// The client went away or broke the request: drop the upstream (it is never reused half-read).
    func abort() {
        guard phase != .finished else { return }
        phase = .finished
        pendingConnectTimer = nil
        upstream?.close()
        upstream = nil
    }

    /// The gateway answers instead of the upstream (only while nothing of the response went out).
    func answer(_ a: GatewayAnswer) {
        guard phase != .finished else { return }
        status = a.status
        answerCode = a.code
        phase = .finished
        pendingConnectTimer = nil
        upstream?.close()
        upstream = nil
        downstream.downstreamAnswer(a)
        downstream.downstreamFinished(self)
    }

    func failBodyTooLarge() {
        if responseStarted {
            abortAfterResponseStarted()
        } else {
            answer(.error(.bodyTooLarge))
        }
    }

    private func abortAfterResponseStarted() {
        guard phase != .finished else { return }
        phase = .finished
        upstream?.close()
        upstream = nil
        downstream.downstreamAbort()
        downstream.downstreamFinished(self)
    }

    private func finishResponse(trailers: HTTPHeaders?) {
        guard let c = upstream else { return }
        responseDone = true
        downstream.downstreamEnd(trailers: trailers.map { TrailerFilter.filtered($0, identity: snapshot.config.identityHeaders) })
        phase = .finished
        upstream = nil
        if c.canReuse && requestBodyDone && upstreamKeepAlive {
            c.timer.disarm()
            loopState.pool.park(c, maxIdle: target.maxIdleConnections, idleTimeout: target.idleTimeout)
        } else {
            c.close()
        }
        downstream.downstreamFinished(self)
    }

    private var upstreamKeepAlive = true
    fileprivate var pendingResponseTrailers: HTTPHeaders?

    /// Once finished, moves the forwarded request's fields out (nothing reads them after the exchange), so the
    /// client side can reuse their memory; nil before.
    func takeRequestFields() -> HTTPHeaders? {
        phase == .finished ? plan.head.headers.take() : nil
    }
}

extension ProxyExchange: UpstreamConnectionDelegate {
    func upstream(_ c: UpstreamConnection, event: consuming HTTP1ResponseEvent, in buffer: UnsafeRawBufferPointer) {
        guard c === upstream, phase == .forwarding else { return }
        // Consumed: the head below is then the only owner of its fields, and the rewrite edits them in place.
        switch consume event {
        case .head(var head):
            if head.isInformational && head.status != 101 {
                // Our own 100 Continue already went out; other 1xx (103 Early Hints) are passed on.
                if head.status != 100 {
                    rewrite(&head)
                    downstream.downstreamInterim(head)
                }
                return
            }
            c.timer.disarm()
            upstreamHeadNanos = loopState.loop.now()
            status = head.status
            upstreamKeepAlive = head.keepAlive
            responseStarted = true
            if head.status == 101 {
                guard plan.isWebSocketUpgrade else {
                    // An upgrade nobody asked for: the upstream is confused.
                    responseStarted = false
                    answer(.error(.badUpstreamResponse))
                    return
                }
                phase = .tunnel
                c.becomeTunnel()
                rewrite(&head)
                downstream.downstreamSwitchProtocols(head)
                return
            }
            let framing = head.framing
            rewrite(&head)
            downstream.downstreamHead(&head, upstreamFraming: framing, isHeadRequest: isHeadRequest)
            loopState.fieldsPool.give(head.headers.take())
        case .body(let range):
            bytesOut += range.count
            downstream.downstreamBody(UnsafeRawBufferPointer(rebasing: buffer[range]))
            if downstream.isDownstreamBlocked { c.pauseReading() }
        case .trailers(let t):
            pendingResponseTrailers = t
        case .end:
            let t = pendingResponseTrailers
            pendingResponseTrailers = nil
            finishResponse(trailers: t)
        }
    }

    func upstreamTunnelBytes(_ c: UpstreamConnection, _ bytes: UnsafeRawBufferPointer) {
        guard c === upstream else { return }
        bytesOut += bytes.count
        downstream.downstreamTunnelBytes(bytes)
        if downstream.isDownstreamBlocked { c.pauseReading() }
    }

    func upstreamFailed(_ c: UpstreamConnection, error: UpstreamFailure) {
        guard c === upstream, phase != .finished else { return }
        upstream = nil
        if phase == .tunnel {
            phase = .finished
            downstream.downstreamAbort()
            downstream.downstreamFinished(self)
            return
        }
        if responseStarted {
            abortAfterResponseStarted()
            return
        }
        switch error {
        case .badResponse:
            answer(.error(.badUpstreamResponse))
        case .io, .closedEarly:
            if c.reused && !c.receivedAny && retryable && !retried {
                // A reused keep-alive connection the upstream had already closed: one fresh try.
                retried = true
                triedServers.removeAll()
                connect()
            } else {
                answer(.error(.upstreamUnavailable))
            }
        }
    }

    func upstreamDrained(_ c: UpstreamConnection) {
        guard c === upstream else { return }
        downstream.downstreamResumeRequestBody()
    }

    func upstreamTimedOut(_ c: UpstreamConnection) {
        guard c === upstream, !responseStarted else { return }
        answer(.error(.upstreamTimeout))
    }

    /// Turns the upstream's response head into the client's, in place (the head owns its fields, nothing is
    /// copied): hop-by-hop fields out, the request id and CORS fields in.
    private func rewrite(_ out: inout HTTPResponseHead) {
        let keepLength = isHeadRequest || out.status == 304
        let isSwitch = out.status == 101
        // Names the upstream listed in `Connection` are hop-by-hop too (RFC 9110 7.6.1), `upgrade` excepted.
        // Ranges into the field bytes, which removing fields leaves where they are.
        var listed: [Range<Int>] = []
        do {
            // Scoped: a copy of the fields still alive during the removal below would make it copy the arrays.
            let h = out.headers
            h.storage.withUnsafeBufferPointer { s in
                for i in 0..<h.count where ASCII.equalsLower(s, h.nameRange(i), "connection") {
                    HeaderScan.forEachToken(s, h.valueRange(i)) { r in
                        if !ASCII.equalsLower(s, r, "upgrade") && !ASCII.equalsLower(s, r, "keep-alive")
                            && !ASCII.equalsLower(s, r, "close") { listed.append(r) }
                    }
                }
            }
        }
        // A name of none of the lengths below can go only when `Connection` listed it, which nearly no response
        // does: those fields are settled without opening the bytes.
        out.headers.removeAll { h, i in
            let n = h.nameRange(i)
            switch n.count {
            case 2, 7, 10, 12, 14, 16, 17: break
            default: if listed.isEmpty { return false }
            }
            return h.storage.withUnsafeBufferPointer { s in
                switch n.count {
                case 2: return ASCII.equalsLower(s, n, "te")
                case 7: if ASCII.equalsLower(s, n, "upgrade") { return !isSwitch }
                case 10:
                    if ASCII.equalsLower(s, n, "connection") || ASCII.equalsLower(s, n, "keep-alive") { return true }
                case 12: if ASCII.equalsLower(s, n, "x-request-id") { return true }
                case 14: if ASCII.equalsLower(s, n, "content-length") { return !keepLength }
                case 16: if ASCII.equalsLower(s, n, "proxy-connection") { return true }
                case 17: if ASCII.equalsLower(s, n, "transfer-encoding") { return true }
                default: break
                }
                return listed.contains { r in
                    r.count == n.count && zip(r, n).allSatisfy { ASCII.lower(s[$0]) == ASCII.lower(s[$1]) }
                }
            }
        }
        if isSwitch { out.headers.append(name: "Connection", value: "upgrade") }
        out.headers.append(name: "X-Request-Id", value: plan.requestId)
        if plan.origin != nil, !out.headers.contains(named: "Access-Control-Allow-Origin") {
            for (n, v) in snapshot.cors.responseHeaders(origin: plan.origin) { out.headers.append(name: n, value: v) }
        }
    }
}
