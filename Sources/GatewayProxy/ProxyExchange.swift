import GatewayAuth
import GatewayCore
import GatewayHTTP1
import GatewayLoop
import GatewayReplay

/// One request forwarded to an upstream and its response carried back, with back-pressure both ways.
///
/// Every decision about the exchange's lifecycle is taken by its `ExchangeStateMachine`; this class carries the
/// machine's answers out on the sockets. It is ended once, by `finish`, and an input that arrives while another
/// is being carried out (a failed send reported from inside a write, a client gone while an answer is written)
/// waits until that one is done instead of re-entering it.
final class ProxyExchange {
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
    private(set) var machine: ExchangeStateMachine
    private(set) var upstream: UpstreamConnection?
    private var triedServers = TriedServers()
    private var retried = false
    private(set) var serverName: String?

    /// Client bytes held until the machine lets them go: a body that arrived before the upstream was ready, or
    /// bytes sent behind an upgrade before the upstream switched protocols.
    private var held = ByteBuffer()
    private var pendingRequestTrailers: HTTPHeaders?
    private let chunkedToUpstream: Bool
    /// Request bytes are kept for a retry only when there is no body.
    private let retryable: Bool
    private var sentExpectContinue = false
    /// The request's end is queued behind a full upstream socket: the response timer starts when it drains.
    private var armTimerOnDrain = false

    private(set) var status = 0
    private(set) var answerCode: String?
    private(set) var bodyBytesIn = 0
    private(set) var bytesOut = 0
    let startNanos: UInt64
    private(set) var upstreamStartNanos: UInt64 = 0
    private(set) var upstreamHeadNanos: UInt64 = 0
    private let isHeadRequest: Bool
    private var scratch: [UInt8] = []

    /// Inputs that arrived while another input was being carried out; run in order once it is done.
    private enum Deferred {
        case clientGone
        case refuse(GatewayErrorCode)
        case upstreamFailed(UpstreamConnection, UpstreamFailure)
        case upstreamTimedOut(UpstreamConnection)
    }
    private var busy = false
    private var deferred: [Deferred] = []

    private var tunnelTimer: LoopTimer?
    /// Loop time of the last tunnel byte either way (the idle timer compares against it when it fires).
    private var tunnelActivity: UInt64 = 0

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
        let bodyless: Bool
        if case .none = plan.head.framing { bodyless = true } else { bodyless = false }
        retryable = bodyless && ProxyExchange.isIdempotent(method)
        machine = ExchangeStateMachine(isUpgrade: plan.isWebSocketUpgrade, bodyless: bodyless)
        liveToken = LiveToken(loopState, .exchange)
    }

    /// RFC 9110 9.2.2. A switch, not `[...].contains`: the array literal was built and searched on every exchange.
    static func isIdempotent(_ method: String) -> Bool {
        switch method {
        case "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE": return true
        default: return false
        }
    }

    // MARK: one input at a time

    /// Runs `body` as the one input in progress. An input that can come from inside another's actions (a failed
    /// send, a client gone during a write, a timer) describes itself in `deferrable` and is queued while another
    /// input is on the stack. Socket reads never happen inside an input (resuming a read only schedules it), so
    /// the others cannot nest.
    @inline(__always)
    private func input(_ deferrable: @autoclosure () -> Deferred?, _ body: () -> Void) {
        loopState.loop.assertInLoop()
        if busy, let d = deferrable() {
            deferred.append(d)
            return
        }
        if busy {
            body()
            return
        }
        busy = true
        body()
        busy = false
        if !deferred.isEmpty { runDeferred() }
    }

    private func runDeferred() {
        while !deferred.isEmpty {
            let d = deferred.removeFirst()
            switch d {
            case .clientGone: clientGone()
            case .refuse(let code): refuse(code)
            case .upstreamFailed(let c, let f): upstreamFailed(c, error: f)
            case .upstreamTimedOut(let c): upstreamTimedOut(c)
            }
        }
    }

    // MARK: starting

    /// Checks the replay store (when the route is single-use), then connects.
    func begin() {
        input(nil) {
            switch machine.start(needsAdmission: plan.replay != nil) {
            case .connect: connect()
            case .admit: admit()
            }
        }
    }

    private func admit() {
        guard let ticket = plan.replay else { return }
        let loop = loopState.loop
        let me = UnsafeTransfer(self)
        loopState.replayStore.admit(app: ticket.app, jti: ticket.jti, until: ticket.until) { admission in
            if loop.inLoop {
                me.value.admitted(admission, inline: true)
            } else {
                loop.execute { me.value.admitted(admission, inline: false) }
            }
        }
        // Only a store that answers later (Redis) holds the request body back; the in-memory one has answered by
        // now, and suspending the read source for nothing would cost two epoll_ctl calls per request.
        if machine.state == .admitting { downstream.downstreamPauseRequestBody() }
    }

    private func admitted(_ admission: ReplayAdmission, inline: Bool) {
        let run = {
            switch self.machine.admitted(admission, allowUnavailable: self.snapshot.config.replay.redis.onUnavailable == .allow) {
            case .none:
                // Ended meanwhile: a recorded jti that never reached an upstream goes back.
                if self.machine.holdsReplayEntry && !self.machine.reachedUpstream { self.releaseToken() }
            case .connect:
                self.connect()
            case .replayed:
                self.answer(.failure(.tokenReplayed, hadToken: true))
            case .answer(let code):
                self.answer(.error(code))
            }
        }
        // Inline answers come from `begin`, which is the input in progress.
        if inline { run() } else { input(nil, run) }
    }

    private func connect() {
        if upstreamStartNanos == 0 { upstreamStartNanos = loopState.loop.now() }
        guard let i = loopState.pool.pickServer(target, excluding: triedServers) else {
            noConnection(.upstreamUnavailable)
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
        guard target.budgets[i].tryAcquire(limit: target.maxConnections) else {
            // Every connection this server may have is open: wait for one (`queue_timeout`).
            queuedSlot = slot
            loopState.pool.enqueue(self, target: target, server: i)
            loopState.trimIdleElsewhere(slot: slot)
            return
        }
        open(server: i)
    }

    /// Opens a new connection to server `i`, holding the unit of its budget already taken.
    private func open(server i: Int) {
        let slot = target.poolSlots[i]
        let key = target.poolKeys[i]
        let limits = snapshot.parserLimits
        let attempt = ConnectAttempt(target: target, server: i, loopState: loopState)
        let me = UnsafeTransfer(self)
        attempt.onTimeout = { me.value.connectTimedOut() }
        pendingAttempt = attempt
        let socket = Connector.connect(to: target.servers[i], loop: loopState.loop) { [self] result in
            guard pendingAttempt === attempt, !attempt.ended else {
                // The exchange went away meanwhile: a connection still serves the next request.
                switch result {
                case .success(let channel):
                    if target.tls == nil { attempt.adopt(channel, serverKey: key, limits: limits) } else {
                        channel.close()
                        attempt.failed()
                    }
                case .failure:
                    attempt.failed()
                }
                return
            }
            input(nil) {
                switch result {
                case .success(let channel):
                    if let tls = target.tls {
                        // The connect timer keeps running through the handshake.
                        handshakeTLS(channel, context: tls, serverName: target.tlsServerNames[i], serverKey: key,
                                     attempt: attempt)
                        return
                    }
                    pendingAttempt = nil
                    attempt.succeeded()
                    loopState.pool.markHealthy(slot: slot)
                    attach(UpstreamConnection(transport: TransportChannel(channel: channel), serverKey: key,
                                              serverSlot: slot, budget: attempt.budget, limits: limits,
                                              loopState: loopState))
                case .failure:
                    pendingAttempt = nil
                    attempt.failed()
                    loopState.pool.markFailed(slot: slot)
                    connect()
                }
            }
        }
        if !attempt.ended { attempt.connecting(socket) }
    }

    /// The connect (and TLS handshake) in flight.
    private var pendingAttempt: ConnectAttempt?
    /// The pool slot this exchange waits on, while queued.
    private var queuedSlot: Int?

    /// Lets go of the connect in flight, if any: it finishes on its own (see `ConnectAttempt`).
    private func orphanAttempt() {
        guard let a = pendingAttempt else { return }
        pendingAttempt = nil
        a.orphan()
    }

    /// Whether `attempt` is still the one this exchange waits for.
    func isCurrent(_ attempt: ConnectAttempt) -> Bool {
        pendingAttempt === attempt && !attempt.ended && machine.state == .connecting
    }

    /// The TLS handshake of `attempt` ended; `outcome` carries it out (see `handshakeTLS`).
    func handshakeEnded(_ attempt: ConnectAttempt, _ outcome: () -> Void) {
        input(nil) {
            pendingAttempt = nil
            outcome()
        }
    }

    /// The pool's answer to a wait: an idle connection, or a unit of the budget to open one with.
    func waitEnded(server i: Int, idle: UpstreamConnection?) {
        queuedSlot = nil
        input(nil) {
            guard machine.state == .connecting else {
                // Cannot happen (a finished exchange leaves the queue); never leak the unit if it does.
                if let idle { idle.close() } else { loopState.releaseBudget(target.budgets[i], slot: target.poolSlots[i]) }
                return
            }
            if let idle { attach(idle) } else { open(server: i) }
        }
    }

    /// No connection came within `queue_timeout`.
    func queueTimedOut() {
        queuedSlot = nil
        input(nil) { noConnection(.upstreamBusy) }
    }

    private func noConnection(_ code: GatewayErrorCode) {
        guard case .answer(let code, let release) = machine.noConnection(code) else { return }
        if release { releaseToken() }
        answer(.error(code))
    }

    private func connectTimedOut() {
        guard let a = pendingAttempt, machine.state == .connecting else { return }
        input(nil) {
            pendingAttempt = nil
            a.cancel()
            loopState.pool.markFailed(slot: a.slot)
            connect()
        }
    }

    func retryConnect() { connect() }

    func attach(_ c: UpstreamConnection) {
        guard let todo = machine.attached() else {
            c.close()
            return
        }
        upstream = c
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
            if !sentExpectContinue && !machine.clientEnded && head.version == .http1_1 {
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
        if todo.flushHeldBody && !held.isEmpty {
            let body = held
            held.clear()
            body.withReadableBytes { sendBody($0, to: c) }
        }
        if todo.sendBodyEnd { sendBodyEnd(to: c) }
        if todo.armResponseTimer { armResponseTimer(c) }
        // Body bytes that arrived while connecting paused the client; only a full upstream socket (or bytes held
        // behind an upgrade) may keep it paused.
        if c.hasPendingOutput || !held.isEmpty {
            downstream.downstreamPauseRequestBody()
        } else {
            downstream.downstreamResumeRequestBody()
        }
    }

    private func armResponseTimer(_ c: UpstreamConnection) {
        if c.hasPendingOutput {
            armTimerOnDrain = true
        } else {
            c.timer.arm(after: target.responseTimeout)
        }
    }

    // MARK: bytes from the client

    /// Request body bytes, or tunnel bytes (HTTP/2 DATA on an extended CONNECT, HTTP/1.1 bytes after a 101).
    func clientBytes(_ bytes: UnsafeRawBufferPointer) {
        input(nil) {
            switch machine.clientBytes() {
            case .forward:
                guard let c = upstream else { return }
                if machine.state == .tunnel {
                    tunnelActivity = loopState.loop.now()
                    c.send(bytes)
                } else {
                    bodyBytesIn += bytes.count
                    sendBody(bytes, to: c)
                }
                if c.hasPendingOutput { downstream.downstreamPauseRequestBody() }
            case .hold:
                if !machine.isUpgrade { bodyBytesIn += bytes.count }
                held.write(bytes)
                downstream.downstreamPauseRequestBody()
            case .drop:
                break
            }
        }
    }

    func requestEnd(trailers: HTTPHeaders?) {
        input(nil) {
            if let trailers { pendingRequestTrailers = TrailerFilter.filtered(trailers, identity: snapshot.config.identityHeaders) }
            switch machine.clientEnd() {
            case .none:
                break
            case .sendBodyEnd(let arm):
                guard let c = upstream else { return }
                sendBodyEnd(to: c)
                if arm { armResponseTimer(c) }
            }
        }
    }

    private func sendBody(_ bytes: UnsafeRawBufferPointer, to c: UpstreamConnection) {
        guard !bytes.isEmpty else { return }
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

    private func sendBodyEnd(to c: UpstreamConnection) {
        guard chunkedToUpstream else { return }
        scratch.removeAll(keepingCapacity: true)
        HTTP1Serializer.writeLastChunk(trailers: pendingRequestTrailers, into: &scratch)
        c.send(scratch)
    }

    // MARK: back-pressure

    /// The client drained its queued bytes: read the upstream again.
    func downstreamDrained() {
        upstream?.resumeReading()
    }

    // MARK: ending

    /// The client went away (reset, closed, or its connection failed): the upstream is dropped (never reused
    /// half-read). The downstream that reports it has let go of the exchange already.
    func clientGone() {
        input(.clientGone) {
            guard case .finish(let release) = machine.clientGone() else { return }
            finish(.close, releaseToken: release, notify: false)
        }
    }

    /// The request became unacceptable mid-way (body over the limit, a parse error in its body): answered when
    /// nothing of the response went out yet, cut otherwise.
    func refuse(_ code: GatewayErrorCode) {
        input(.refuse(code)) {
            switch machine.refuse(code) {
            case .none: break
            case .answer(let code): answer(.error(code))
            case .abort:
                downstream.downstreamAbort()
                finish(.close, releaseToken: false, notify: true)
            }
        }
    }

    /// Writes an answer of the gateway's own; the machine has already finished the exchange.
    private func answer(_ a: GatewayAnswer) {
        status = a.status
        answerCode = a.code
        closeUpstreamNow()
        downstream.downstreamAnswer(a)
        finish(.close, releaseToken: false, notify: true)
    }

    private func closeUpstreamNow() {
        if let c = upstream {
            upstream = nil
            c.close()
        }
    }

    /// The one end of every exchange: timers stop, the upstream connection is parked or closed, a `jti` that
    /// never reached an upstream goes back to the store, and the downstream hears of it (unless it reported the
    /// end itself).
    private func finish(_ disposal: ExchangeStateMachine.UpstreamDisposal, releaseToken release: Bool, notify: Bool) {
        orphanAttempt()
        if let slot = queuedSlot {
            queuedSlot = nil
            loopState.pool.cancelWait(self, slot: slot)
        }
        tunnelTimer?.disarm()
        tunnelTimer = nil
        held.clear()
        if let c = upstream {
            upstream = nil
            if disposal == .park {
                c.timer.disarm()
                loopState.pool.park(c, maxIdle: target.maxIdleConnections, idleTimeout: target.idleTimeout)
            } else {
                c.close()
            }
        }
        if release { releaseToken() }
        if notify { downstream.downstreamFinished(self) }
    }

    /// Gives the `jti` back: the request never reached an upstream, so the client may retry with the same token.
    private func releaseToken() {
        guard let ticket = plan.replay else { return }
        loopState.replayStore.release(app: ticket.app, jti: ticket.jti)
    }

    private var upstreamKeepAlive = true
    fileprivate var pendingResponseTrailers: HTTPHeaders?

    /// Once finished, moves the forwarded request's fields out (nothing reads them after the exchange), so the
    /// client side can reuse their memory; nil before.
    func takeRequestFields() -> HTTPHeaders? {
        machine.isFinished ? plan.head.headers.take() : nil
    }

    // MARK: tunnel

    private func enterTunnel(_ c: UpstreamConnection) {
        c.becomeTunnel()
        tunnelActivity = loopState.loop.now()
        if !held.isEmpty {
            let early = held
            held.clear()
            early.withReadableBytes { _ = c.send($0) }
        }
        let idle = snapshot.config.limits.tunnelIdleTimeout
        let me = UnsafeTransfer(self)
        let t = LoopTimer(loop: loopState.loop) { me.value.tunnelTimerFired() }
        t.arm(after: idle)
        tunnelTimer = t
    }

    private func tunnelTimerFired() {
        guard let t = tunnelTimer else { return }
        let idle = UInt64(max(0, snapshot.config.limits.tunnelIdleTimeout.nanoseconds))
        let quiet = loopState.loop.now() &- tunnelActivity
        if quiet < idle {
            t.arm(afterNanos: idle - quiet)
            return
        }
        input(nil) {
            guard machine.tunnelIdle() else { return }
            downstream.downstreamAbort()
            finish(.close, releaseToken: false, notify: true)
        }
    }
}

extension ProxyExchange: UpstreamConnectionDelegate {
    func upstream(_ c: UpstreamConnection, event: consuming HTTP1ResponseEvent, in buffer: UnsafeRawBufferPointer) {
        guard c === upstream else { return }
        // Consumed: the head below is then the only owner of its fields, and the rewrite edits them in place.
        switch consume event {
        case .head(var head):
            if head.isInformational && head.status != 101 {
                // Our own 100 Continue already went out; other 1xx (103 Early Hints) are passed on.
                if head.status != 100 && machine.upstreamInterim() == .forward {
                    rewrite(&head)
                    downstream.downstreamInterim(head)
                }
                return
            }
            input(nil) {
                switch machine.upstreamHead(status: head.status) {
                case .none:
                    return
                case .answer(let code):
                    // An upgrade nobody asked for: the upstream is confused.
                    answer(.error(code))
                    return
                case .enterTunnel:
                    c.timer.disarm()
                    upstreamHeadNanos = loopState.loop.now()
                    status = head.status
                    rewrite(&head)
                    enterTunnel(c)
                    downstream.downstreamSwitchProtocols(head)
                case .forward:
                    c.timer.disarm()
                    armTimerOnDrain = false
                    upstreamHeadNanos = loopState.loop.now()
                    status = head.status
                    upstreamKeepAlive = head.keepAlive
                    // A refused upgrade drops what the client sent behind it.
                    if machine.isUpgrade { held.clear() }
                    let framing = head.framing
                    rewrite(&head)
                    downstream.downstreamHead(&head, upstreamFraming: framing, isHeadRequest: isHeadRequest)
                    loopState.fieldsPool.give(head.headers.take())
                }
            }
        case .body(let range):
            guard machine.forwardsResponseBody else { return }
            bytesOut += range.count
            downstream.downstreamBody(UnsafeRawBufferPointer(rebasing: buffer[range]))
            if downstream.isDownstreamBlocked { c.pauseReading() }
        case .trailers(let t):
            pendingResponseTrailers = t
        case .end:
            input(nil) {
                guard case .finish(let disposal) = machine.upstreamEnd(reusable: c.canReuse && upstreamKeepAlive) else { return }
                let t = pendingResponseTrailers
                pendingResponseTrailers = nil
                downstream.downstreamEnd(trailers: t.map { TrailerFilter.filtered($0, identity: snapshot.config.identityHeaders) })
                finish(disposal, releaseToken: false, notify: true)
            }
        }
    }

    func upstreamTunnelBytes(_ c: UpstreamConnection, _ bytes: UnsafeRawBufferPointer) {
        guard c === upstream, machine.state == .tunnel else { return }
        bytesOut += bytes.count
        tunnelActivity = loopState.loop.now()
        downstream.downstreamTunnelBytes(bytes)
        if downstream.isDownstreamBlocked { c.pauseReading() }
    }

    func upstreamFailed(_ c: UpstreamConnection, error: UpstreamFailure) {
        guard c === upstream else { return }
        input(.upstreamFailed(c, error)) {
            guard c === upstream else { return }
            var bad = false
            if case .badResponse = error { bad = true }
            let canRetry = c.reused && !c.receivedAny && retryable && !retried
            switch machine.upstreamFailed(badResponse: bad, retryable: canRetry) {
            case .none:
                return
            case .retry:
                // A reused keep-alive connection the upstream had already closed: one fresh try.
                upstream = nil
                retried = true
                triedServers.removeAll()
                connect()
            case .answer(let code):
                upstream = nil
                answer(.error(code))
            case .abort:
                upstream = nil
                downstream.downstreamAbort()
                finish(.close, releaseToken: false, notify: true)
            }
        }
    }

    func upstreamDrained(_ c: UpstreamConnection) {
        guard c === upstream else { return }
        if armTimerOnDrain {
            armTimerOnDrain = false
            c.timer.arm(after: target.responseTimeout)
        }
        // Bytes held behind an upgrade keep the client paused until the tunnel opens.
        if held.isEmpty { downstream.downstreamResumeRequestBody() }
    }

    func upstreamTimedOut(_ c: UpstreamConnection) {
        guard c === upstream else { return }
        input(.upstreamTimedOut(c)) {
            guard c === upstream, case .answer(let code) = machine.responseTimedOut() else { return }
            answer(.error(code))
        }
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
