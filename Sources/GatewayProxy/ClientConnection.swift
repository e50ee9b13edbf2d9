import GatewayCore
import GatewayTransport
import GatewayHTTP1
import GatewayLoop

/// What a listener serves: the gateway itself, the admin endpoints, or the bundled echo backend.
public enum ListenerKind: Sendable {
    case gateway
    case admin
    case echo
}

/// One HTTP/1.1 client connection: parses requests strictly, runs one exchange at a time, answers in order.
///
/// Its lifecycle decisions are `HTTP1ConnectionStateMachine`'s; this class carries them out on the socket.
final class ClientConnection {
    let transport: TransportChannel
    let loopState: LoopState
    /// Counted among the loop's live objects (debug builds).
    private let liveToken: LiveToken
    let kind: ListenerKind
    let peerIP: String
    /// Index of the listener this connection came in on (its `trusted_proxies`).
    let listener: Int
    var isTLS: Bool { transport.isTLS }
    /// Only this file and its `+Gateway` extension drive it.
    var machine = HTTP1ConnectionStateMachine()
    var parser: HTTP1RequestParser
    private(set) var timer: LoopTimer!
    /// Bytes read past the end of the current request (pipelined requests, bytes behind an upgrade).
    var stash: [UInt8] = []

    var exchange: ProxyExchange?
    var local: LocalExchange?
    /// The head of the request in progress.
    var currentHead: HTTPRequestHead?
    var requestBodyBytes = 0
    var requestStartNanos: UInt64 = 0
    var bytesWritten = 0
    var logInfo = ExchangeLogInfo()
    var isCorked = false
    var pendingTrailers: HTTPHeaders?

    init(transport: TransportChannel, peerIP: String, loopState: LoopState, kind: ListenerKind, listener: Int = -1) {
        self.listener = listener
        self.loopState = loopState
        liveToken = LiveToken(loopState, .http1Connection)
        self.kind = kind
        self.peerIP = peerIP
        self.transport = transport
        parser = HTTP1RequestParser(limits: loopState.snapshot.parserLimits)
        timer = LoopTimer(loop: loopState.loop) { [unowned self] in self.timerFired() }
        // Strong captures, dropped by the transport at `close()`.
        transport.onReadable = { self.readable() }
        transport.onWritable = { self.writable() }
    }

    /// Starts serving; `initial` holds bytes already read from the connection (protocol detection).
    func start(initial: UnsafeRawBufferPointer? = nil) {
        loopState.register(self)
        timer.arm(after: loopState.snapshot.config.limits.headerTimeout)
        // Handed over by protocol detection after the drain began: its request is still served, as the last one.
        if loopState.draining && kind != .admin { drain() }
        if let initial, !initial.isEmpty {
            loopState.beginBatch()
            process(initial)
            loopState.endBatch()
            if machine.paused.isEmpty && machine.isOpen { transport.resumeReading() }
        } else {
            transport.resumeReading()
        }
    }

    var limits: (maxBody: Int, headerTimeout: TimeSpan, keepalive: TimeSpan) {
        let l = loopState.snapshot.config.limits
        return (l.maxBodyBytes, l.headerTimeout, l.keepaliveTimeout)
    }

    // MARK: reading

    func pause(_ r: HTTP1ConnectionStateMachine.PauseReasons) {
        machine.pause(r)
        transport.pauseReading()
    }

    func unpause(_ r: HTTP1ConnectionStateMachine.PauseReasons) {
        if machine.unpause(r) { transport.resumeReading() }
    }

    private func readable() {
        loopState.loop.assertInLoop()
        loopState.beginBatch()
        defer { loopState.endBatch() }
        let buf = loopState.loop.readBuffer
        while machine.state != .closed && machine.paused.isEmpty {
            let r: ReadResult
            do { r = try transport.read(into: buf) } catch {
                forceClose()
                return
            }
            switch r {
            case .wouldBlock: return
            case .eof:
                clientClosed()
                return
            case .bytes(let n):
                process(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[0..<n]))
                // A short read drained the socket; the (level-triggered) source fires again for more,
                // so the extra read that would only return EAGAIN is skipped.
                if n < buf.count && transport.shortReadDrains { return }
            }
        }
    }

    /// Feeds bytes to the parser (or the tunnel, or the stash) until they run out or the connection must wait.
    func process(_ input: UnsafeRawBufferPointer) {
        if machine.startsHead(parserIdle: parser.isIdle, hasBytes: !input.isEmpty) {
            timer.arm(after: limits.headerTimeout)
        }
        var offset = 0
        while true {
            switch machine.nextBytes(atEnd: offset >= input.count, parserIdle: parser.isIdle) {
            case .stop:
                return
            case .tunnel:
                exchange?.clientBytes(UnsafeRawBufferPointer(rebasing: input[offset...]))
                return
            case .stash:
                // The next request (or bytes behind an upgrade) waits until this exchange is over.
                stash.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset...]))
                pause(.pipeline)
                return
            case .parse:
                break
            }
            let slice = UnsafeRawBufferPointer(rebasing: input[offset...])
            let step: (consumed: Int, event: HTTP1RequestEvent?)
            do { step = try parser.parse(slice) } catch {
                parseFailed(error)
                return
            }
            offset += step.consumed
            guard let event = step.event else {
                if step.consumed == 0 { return }
                continue
            }
            switch event {
            case .head(let head): handleHead(head)
            case .body(let range): handleBody(UnsafeRawBufferPointer(rebasing: slice[range]))
            case .trailers(let t): pendingTrailers = t
            case .end: handleEnd()
            }
        }
    }

    private func handleBody(_ bytes: UnsafeRawBufferPointer) {
        requestBodyBytes += bytes.count
        if requestBodyBytes > limits.maxBody {
            machine.bodyTooLarge()
            if let ex = exchange {
                ex.refuse(.bodyTooLarge)
            } else if local != nil {
                local = nil
                answerDirect(.error(.bodyTooLarge), requestId: RequestId.generate(), origin: nil, close: true)
            }
            return
        }
        if let ex = exchange { ex.clientBytes(bytes) } else { local?.body(bytes) }
    }

    private func handleEnd() {
        guard machine.requestEnded() else { return }
        let t = pendingTrailers
        pendingTrailers = nil
        if let ex = exchange {
            ex.requestEnd(trailers: t)
        } else if local != nil {
            runLocal()
        }
    }

    private func parseFailed(_ error: HTTP1ParseError) {
        let code: GatewayErrorCode
        switch error {
        case .badRequest: code = .badRequest
        case .headersTooLarge: code = .headersTooLarge
        case .uriTooLong: code = .uriTooLong
        case .notImplemented: code = .notImplemented
        }
        switch machine.parseFailed(hasExchange: exchange != nil) {
        case .refuseExchange:
            exchange?.refuse(code)
        case .answerAndClose:
            answerDirect(.error(code), requestId: RequestId.generate(), origin: nil, close: true)
        }
    }

    private func clientClosed() {
        switch machine.clientEOF() {
        case .close:
            forceClose()
        case .abortAndClose:
            dropExchange()
            forceClose()
        case .finishThenClose:
            // Half-close after a complete request: finish the response, then close.
            transport.pauseReading()
        }
    }

    /// The client is gone: the exchange hears it once, and this connection lets go of it.
    private func dropExchange() {
        guard let ex = exchange else { return }
        exchange = nil
        ex.clientGone()
    }

    // MARK: writing

    /// Queues or sends bytes to the client; false when the client is gone.
    @discardableResult
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard machine.state != .closed else { return false }
        bytesWritten += bytes.count
        if !isCorked && loopState.isBatching {
            isCorked = true
            transport.cork()
            loopState.addCorked(self)
        }
        if transport.write(bytes) {
            // A client that stops reading must not hold the exchange (and its upstream) forever.
            if transport.isBlocked && machine.outputBlocked(timerArmed: timer.isArmed) { timer.arm(after: limits.keepalive) }
            return true
        }
        dropExchange()
        forceClose()
        return false
    }

    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { write($0) } }

    private func writable() {
        loopState.loop.assertInLoop()
        loopState.beginBatch()
        defer { loopState.endBatch() }
        do {
            guard try transport.flush() else { return }
        } catch {
            dropExchange()
            forceClose()
            return
        }
        switch machine.outputDrained() {
        case .close:
            forceClose()
        case .resumeUpstream:
            timer.disarm()
            exchange?.downstreamDrained()
        case .none:
            break
        }
    }

    // MARK: lifecycle

    private func timerFired() {
        loopState.loop.assertInLoop()
        switch machine.timerFired(partialHead: parser.hasPartialHead, outputBlocked: transport.isBlocked) {
        case .none:
            break
        case .close:
            forceClose()
        case .requestTimeout:
            answerDirect(.error(.requestTimeout), requestId: RequestId.generate(), origin: nil, close: true)
        case .abortAndClose:
            dropExchange()
            forceClose()
        }
    }

    /// Begins a request's processing; called with the parsed head.
    func beginExchangeState(_ head: HTTPRequestHead) {
        timer.disarm()
        machine.requestHead(keepAlive: head.keepAlive, bodyless: head.framing == .none)
        currentHead = head
        requestBodyBytes = 0
        requestStartNanos = loopState.loop.now()
        bytesWritten = 0
    }

    /// The exchange is over: read the next request or close.
    func endExchangeState() {
        exchange = nil
        local = nil
        currentHead = nil
        switch machine.exchangeEnded(draining: loopState.draining) {
        case .closeAfterFlush:
            closeAfterFlush()
        case .readNext:
            timer.arm(after: limits.keepalive)
            if !stash.isEmpty {
                let pending = stash
                stash = []
                // Not resumed yet: the stashed bytes may start an exchange that must wait again.
                _ = machine.unpause(.pipeline)
                pending.withUnsafeBytes { process($0) }
                if machine.state == .awaitingHead && !machine.requestComplete { unpause(.pipeline) }
            } else {
                unpause(.pipeline)
            }
        }
    }

    /// Closes once everything queued is written (bounded by the header timeout).
    func closeAfterFlush() {
        guard machine.state != .closed else { return }
        transport.pauseReading()
        if isCorked {
            isCorked = false
            guard transport.uncork() else {
                forceClose()
                return
            }
        }
        switch machine.closeAfterFlush(outputQueued: transport.hasQueuedOutput) {
        case .closeNow: forceClose()
        case .waitForFlush: timer.arm(after: limits.headerTimeout)
        }
    }

    func forceClose() {
        guard machine.closed() else { return }
        timer.disarm()
        dropExchange()
        transport.close()
        loopState.unregister(self)
        // Callers up the stack (the transport callback running now) still use this object after this returns.
        loopState.releaseLater(self)
    }

    /// Draining: idle connections close after a quiet period; every request still served says `Connection: close`.
    func drain() {
        switch machine.drain(partialHead: parser.hasPartialHead) {
        case .quietPeriod: timer.arm(after: loopState.drainQuietPeriod)
        case .none: break
        }
    }

    /// `101` went to the client: bytes behind the upgrade request, held until now, are the tunnel's first.
    func enterTunnel() {
        timer.disarm()
        machine.enterTunnel()
        if !stash.isEmpty {
            let pending = stash
            stash = []
            pending.withUnsafeBytes { exchange?.clientBytes($0) }
        }
        unpause([])
    }
}

extension ClientConnection: Corkable {
    func uncork() {
        guard isCorked else { return }
        isCorked = false
        if machine.state == .closed { return }
        if !transport.uncork() {
            dropExchange()
            forceClose()
        } else if machine.state == .closing && !transport.hasQueuedOutput {
            forceClose()
        }
    }
}
