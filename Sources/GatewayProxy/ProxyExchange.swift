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
///
/// Split by aspect: connecting in `+Connect`, the upstream's events in `+Upstream`, TLS in `+TLS`. Its state is
/// internal so those files reach it; nothing outside them writes it.
final class ProxyExchange {
    /// Strong: an unowned reference cost a checked retain and a release on each use (six per request). The cycle
    /// (downstream, exchange) is broken by the downstream, which lets go of its exchange when the exchange finishes
    /// and when the client goes.
    let downstream: any ExchangeDownstream
    let loopState: LoopState
    /// Counted among the loop's live objects (debug builds).
    let liveToken: LiveToken
    let snapshot: RuntimeSnapshot
    let plan: ForwardPlan
    let target: UpstreamTarget
    let method: String
    var machine: ExchangeStateMachine
    var upstream: UpstreamConnection?
    var triedServers = TriedServers()
    var retried = false
    var serverName: String?

    /// Client bytes held until the machine lets them go: a body that arrived before the upstream was ready, or
    /// bytes sent behind an upgrade before the upstream switched protocols.
    var held = ByteBuffer()
    var pendingRequestTrailers: HTTPHeaders?
    let chunkedToUpstream: Bool
    /// Request bytes are kept for a retry only when there is no body.
    let retryable: Bool
    var sentExpectContinue = false
    /// The request's end is queued behind a full upstream socket: the response timer starts when it drains.
    var armTimerOnDrain = false

    var status = 0
    var answerCode: String?
    private(set) var bodyBytesIn = 0
    var bytesOut = 0
    let startNanos: UInt64
    var upstreamStartNanos: UInt64 = 0
    var upstreamHeadNanos: UInt64 = 0
    /// Loop time the replay store was asked (its round trip is measured from here).
    var admitStartNanos: UInt64 = 0
    /// The replay store's `admit` is on the stack: an answer now is part of the input in progress.
    var admitInProgress = false
    let isHeadRequest: Bool
    var scratch: [UInt8] = []

    /// Inputs that arrived while another input was being carried out; run in order once it is done.
    enum Deferred {
        case clientGone
        case refuse(GatewayErrorCode)
        case upstreamFailed(UpstreamConnection, UpstreamFailure)
        case upstreamTimedOut(UpstreamConnection)
    }
    var busy = false
    var deferred: [Deferred] = []

    /// The connect (and TLS handshake) in flight.
    var pendingAttempt: ConnectAttempt?
    /// The pool slot this exchange waits on, while queued.
    var queuedSlot: Int?
    var tunnelTimer: LoopTimer?
    /// Loop time of the last tunnel byte either way (the idle timer compares against it when it fires).
    var tunnelActivity: UInt64 = 0

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
    func input(_ deferrable: @autoclosure () -> Deferred?, _ body: () -> Void) {
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

    func runDeferred() {
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

    func admit() {
        guard let ticket = plan.replay else { return }
        let loop = loopState.loop
        let me = UnsafeTransfer(self)
        admitStartNanos = loop.now()
        // An answer given before `admit` returns (the memory store; a Redis store backing off) is part of the input
        // in progress; one that comes later, even on this loop (Redis replies are read here), is an input of its own.
        admitInProgress = true
        loopState.replayStore.admit(app: ticket.app, jti: ticket.jti, until: ticket.until) { admission in
            if loop.inLoop {
                me.value.admitted(admission, inline: me.value.admitInProgress)
            } else {
                loop.execute { me.value.admitted(admission, inline: false) }
            }
        }
        admitInProgress = false
        // Only a store that answers later (Redis) holds the request body back, and only when there is one: the
        // in-memory store has answered by now, and a bodyless request has nothing to hold. Suspending the read
        // source for nothing costs two epoll_ctl calls per request.
        if machine.state == .admitting && !machine.clientEnded { downstream.downstreamPauseRequestBody() }
    }

    func admitted(_ admission: ReplayAdmission, inline: Bool) {
        // Inline answers come from `begin`, which is the input in progress.
        if inline { carryOut(admission, timed: false) } else { input(nil) { carryOut(admission, timed: true) } }
    }

    /// `timed`: the answer came back later (a networked store), so its round trip is measured.
    func carryOut(_ admission: ReplayAdmission, timed: Bool) {
        // The store's answer counts whatever became of the exchange meanwhile: the metrics describe the store.
        let now = loopState.loop.now()
        loopState.metrics.replayStoreAnswered(admission,
                                              roundTripNanos: timed ? (now > admitStartNanos ? now - admitStartNanos : 0) : nil)
        switch machine.admitted(admission, allowUnavailable: snapshot.config.replay.redis.onUnavailable == .allow) {
        case .none:
            // Ended meanwhile: a recorded jti that never reached an upstream goes back.
            if machine.holdsReplayEntry && !machine.reachedUpstream { releaseToken() }
        case .connect:
            connect()
        case .connectUnchecked(let fault):
            loopState.admittedUnchecked(fault)
            connect()
        case .replayed:
            answer(.failure(.tokenReplayed, hadToken: true))
        case .answer(let code):
            answer(.error(code))
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

    func sendBody(_ bytes: UnsafeRawBufferPointer, to c: UpstreamConnection) {
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

    func sendBodyEnd(to c: UpstreamConnection) {
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
    func answer(_ a: GatewayAnswer) {
        status = a.status
        answerCode = a.code
        closeUpstreamNow()
        downstream.downstreamAnswer(a)
        finish(.close, releaseToken: false, notify: true)
    }

    func closeUpstreamNow() {
        if let c = upstream {
            upstream = nil
            c.close()
        }
    }

    /// The one end of every exchange: timers stop, the upstream connection is parked or closed, a `jti` that
    /// never reached an upstream goes back to the store, and the downstream hears of it (unless it reported the
    /// end itself).
    func finish(_ disposal: ExchangeStateMachine.UpstreamDisposal, releaseToken release: Bool, notify: Bool) {
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
    func releaseToken() {
        guard let ticket = plan.replay else { return }
        loopState.replayStore.release(app: ticket.app, jti: ticket.jti)
    }

    var upstreamKeepAlive = true
    var pendingResponseTrailers: HTTPHeaders?

    /// Once finished, moves the forwarded request's fields out (nothing reads them after the exchange), so the
    /// client side can reuse their memory; nil before.
    func takeRequestFields() -> HTTPHeaders? {
        machine.isFinished ? plan.head.headers.take() : nil
    }

    // MARK: tunnel

    func enterTunnel(_ c: UpstreamConnection) {
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

    func tunnelTimerFired() {
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
