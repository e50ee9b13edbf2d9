import GatewayCore
import GatewayHTTP1
import GatewayLoop

/// What a listener serves: the gateway itself, the admin endpoints, or the bundled echo backend.
public enum ListenerKind: Sendable {
    case gateway
    case admin
    case echo
}

/// One HTTP/1.1 client connection: parses requests strictly, runs one exchange at a time, answers in order.
final class ClientConnection {
    enum State { case awaitingHead, exchange, tunnel, closing, closed }

    struct PauseReason: OptionSet {
        let rawValue: UInt8
        /// Waiting for the current response before parsing the next request (pipelining).
        static let pipeline = PauseReason(rawValue: 1)
        /// The upstream (or replay store) is not taking request bytes yet.
        static let backPressure = PauseReason(rawValue: 2)
        /// Our own output is queued and the connection is closing after it.
        static let closing = PauseReason(rawValue: 4)
    }

    let transport: TransportChannel
    let loopState: LoopState
    /// Counted among the loop's live objects (debug builds).
    private let liveToken: LiveToken
    let kind: ListenerKind
    let peerIP: String
    var isTLS: Bool { transport.isTLS }
    private(set) var state: State = .awaitingHead
    var parser: HTTP1RequestParser
    private(set) var timer: LoopTimer!
    /// Bytes read past the end of the current request (pipelined requests, tunnel bytes).
    var stash: [UInt8] = []
    private var paused: PauseReason = []

    var exchange: ProxyExchange?
    var local: LocalExchange?
    /// The head of the request in progress.
    var currentHead: HTTPRequestHead?
    var requestComplete = false
    var requestBodyBytes = 0
    var keepAlive = true
    var requestStartNanos: UInt64 = 0
    var bytesWritten = 0
    /// Framing of the response being written (chunk-encode or not).
    var responseChunked = false
    var responseCloseDelimited = false
    var logInfo = ExchangeLogInfo()
    var isCorked = false
    /// The exchange ended before the parser saw the end of a bodiless request; swallow that end.
    private var skipNextEnd = false

    init(transport: TransportChannel, peerIP: String, loopState: LoopState, kind: ListenerKind) {
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
        if let initial, !initial.isEmpty {
            loopState.beginBatch()
            process(initial)
            loopState.endBatch()
            if paused.isEmpty && state != .closed && state != .closing { transport.resumeReading() }
        } else {
            transport.resumeReading()
        }
    }

    var limits: (maxBody: Int, headerTimeout: TimeSpan, keepalive: TimeSpan) {
        let l = loopState.snapshot.config.limits
        return (l.maxBodyBytes, l.headerTimeout, l.keepaliveTimeout)
    }

    // MARK: reading

    func pause(_ r: PauseReason) {
        paused.insert(r)
        transport.pauseReading()
    }

    func unpause(_ r: PauseReason) {
        paused.remove(r)
        if paused.isEmpty && state != .closed && state != .closing { transport.resumeReading() }
    }

    private func readable() {
        loopState.loop.assertInLoop()
        loopState.beginBatch()
        defer { loopState.endBatch() }
        let buf = loopState.loop.readBuffer
        while state != .closed && paused.isEmpty {
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

    /// Feeds bytes to the parser (or the tunnel) until they run out or the connection must wait.
    func process(_ input: UnsafeRawBufferPointer) {
        if state == .tunnel {
            exchange?.clientBytes(input)
            return
        }
        if state == .awaitingHead && parser.isIdle && !input.isEmpty {
            timer.arm(after: limits.headerTimeout)
        }
        var offset = 0
        // The parser may report `.end` without consuming bytes, so it is asked again even at the end of input.
        while true {
            if state == .closing || state == .closed { return }
            if offset >= input.count && (requestComplete || state == .tunnel || parser.isIdle) { return }
            if requestComplete || state == .tunnel {
                // The next request (or tunnel data) waits until this exchange is over.
                stash.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset...]))
                pause(.pipeline)
                return
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

    var pendingTrailers: HTTPHeaders?

    private func handleBody(_ bytes: UnsafeRawBufferPointer) {
        requestBodyBytes += bytes.count
        if requestBodyBytes > limits.maxBody {
            if let ex = exchange {
                keepAlive = false
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
        if skipNextEnd {
            skipNextEnd = false
            return
        }
        requestComplete = true
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
        if let ex = exchange {
            keepAlive = false
            ex.refuse(code)
            return
        }
        answerDirect(.error(code), requestId: RequestId.generate(), origin: nil, close: true)
    }

    private func clientClosed() {
        switch state {
        case .awaitingHead, .closing, .closed:
            forceClose()
        case .tunnel:
            exchange?.clientGone()
            forceClose()
        case .exchange:
            if requestComplete {
                // Half-close after a complete request: finish the response, then close.
                keepAlive = false
                transport.pauseReading()
                paused.insert(.closing)
            } else {
                exchange?.clientGone()
                exchange = nil
                forceClose()
            }
        }
    }

    // MARK: writing

    /// Queues or sends bytes to the client; false when the client is gone.
    @discardableResult
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard state != .closed else { return false }
        bytesWritten += bytes.count
        if !isCorked && loopState.isBatching {
            isCorked = true
            transport.cork()
            loopState.addCorked(self)
        }
        if transport.write(bytes) {
            // A client that stops reading must not hold the exchange (and its upstream) forever.
            if transport.isBlocked && !timer.isArmed && (state == .exchange || state == .tunnel) { timer.arm(after: limits.keepalive) }
            return true
        }
        exchange?.clientGone()
        exchange = nil
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
            exchange?.clientGone()
            exchange = nil
            forceClose()
            return
        }
        if state == .closing {
            forceClose()
            return
        }
        if state == .exchange || state == .tunnel { timer.disarm() }
        exchange?.downstreamDrained()
    }

    // MARK: lifecycle

    private func timerFired() {
        loopState.loop.assertInLoop()
        switch state {
        case .awaitingHead:
            if parser.hasPartialHead {
                answerDirect(.error(.requestTimeout), requestId: RequestId.generate(), origin: nil, close: true)
            } else {
                forceClose()
            }
        case .closing:
            forceClose()
        case .exchange, .tunnel:
            // Armed only while our output is blocked: the client stopped reading for keepalive_timeout.
            if transport.isBlocked {
                exchange?.clientGone()
                exchange = nil
                forceClose()
            }
        case .closed:
            break
        }
    }

    /// Begins a request's processing; called with the parsed head.
    func beginExchangeState(_ head: HTTPRequestHead) {
        timer.disarm()
        state = .exchange
        currentHead = head
        requestComplete = false
        requestBodyBytes = 0
        keepAlive = head.keepAlive
        requestStartNanos = loopState.loop.now()
        bytesWritten = 0
        responseChunked = false
        responseCloseDelimited = false
    }

    /// The exchange is over: log it, then read the next request or close.
    func endExchangeState() {
        exchange = nil
        local = nil
        if !requestComplete {
            if let h = currentHead, h.framing == .none, state == .exchange {
                skipNextEnd = true
            } else {
                keepAlive = false
            }
        }
        currentHead = nil
        if loopState.draining { keepAlive = false }
        if state == .closed { return }
        if state == .tunnel || !keepAlive || responseCloseDelimited {
            closeAfterFlush()
            return
        }
        state = .awaitingHead
        requestComplete = false
        timer.arm(after: limits.keepalive)
        paused.remove(.backPressure)
        if !stash.isEmpty {
            let pending = stash
            stash = []
            paused.remove(.pipeline)
            pending.withUnsafeBytes { process($0) }
            if state == .awaitingHead && !requestComplete { unpause(.pipeline) }
        } else {
            unpause(.pipeline)
        }
    }

    /// Closes once everything queued is written (bounded by the header timeout).
    func closeAfterFlush() {
        guard state != .closed else { return }
        state = .closing
        paused.insert(.closing)
        transport.pauseReading()
        if isCorked {
            isCorked = false
            guard transport.uncork() else {
                forceClose()
                return
            }
        }
        if !transport.hasQueuedOutput {
            forceClose()
        } else {
            timer.arm(after: limits.headerTimeout)
        }
    }

    func forceClose() {
        guard state != .closed else { return }
        state = .closed
        timer.disarm()
        exchange?.clientGone()
        exchange = nil
        transport.close()
        loopState.unregister(self)
        // Callers up the stack (the transport callback running now) still use this object after this returns.
        loopState.releaseLater(self)
    }

    /// Draining: idle connections close now; busy ones answer with `Connection: close`.
    func drain() {
        switch state {
        case .awaitingHead:
            if parser.hasPartialHead { keepAlive = false } else { forceClose() }
        case .exchange:
            keepAlive = false
        case .tunnel, .closing, .closed:
            break
        }
    }

    func enterTunnel() {
        state = .tunnel
        timer.disarm()
        if !stash.isEmpty {
            let pending = stash
            stash = []
            pending.withUnsafeBytes { exchange?.clientBytes($0) }
        }
        paused.remove(.pipeline)
        unpause(.pipeline)
    }
}

extension ClientConnection: Corkable {
    func uncork() {
        guard isCorked else { return }
        isCorked = false
        if state == .closed { return }
        if !transport.uncork() {
            exchange?.clientGone()
            exchange = nil
            forceClose()
        } else if state == .closing && !transport.hasQueuedOutput {
            forceClose()
        }
    }
}
