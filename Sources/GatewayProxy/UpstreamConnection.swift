import GatewayCore
import GatewayTransport
import GatewayHTTP1
import GatewayLoop

/// What an upstream connection reports to the exchange using it.
protocol UpstreamConnectionDelegate: AnyObject {
    func upstream(_ c: UpstreamConnection, event: consuming HTTP1ResponseEvent, in buffer: UnsafeRawBufferPointer)
    func upstreamTunnelBytes(_ c: UpstreamConnection, _ bytes: UnsafeRawBufferPointer)
    func upstreamFailed(_ c: UpstreamConnection, error: UpstreamFailure)
    func upstreamDrained(_ c: UpstreamConnection)
    func upstreamTimedOut(_ c: UpstreamConnection)
}

/// Why an upstream connection stopped being useful.
enum UpstreamFailure: Error {
    case io(IOError)
    case closedEarly
    case badResponse(HTTP1ParseError)
}

/// One HTTP/1.1 connection to an upstream server: idle in the pool or serving one exchange at a time.
final class UpstreamConnection {
    enum State { case active, idle, tunnel, closed }

    let transport: TransportChannel
    let serverKey: String
    /// The pool's number for `serverKey`.
    let serverSlot: Int
    /// The server's process-wide connection count: this connection holds one unit until it closes.
    let budget: ServerBudget
    private(set) var state: State = .active
    private var parser: HTTP1ResponseParser
    private(set) var timer: LoopTimer!
    /// The exchange being served; strong (weak references cost a side-table refcount on every retain), and
    /// cleared by `becomeIdle` and `close`, which every path out of an exchange goes through.
    var delegate: (any UpstreamConnectionDelegate)?
    private unowned(unsafe) var pool: UpstreamPool?
    /// Served at least one exchange before (a failure before any byte may be retried once).
    private(set) var reused = false
    /// Bytes came back during the current exchange.
    private(set) var receivedAny = false
    /// The response framing left the connection in a clean state for reuse.
    private(set) var responseComplete = false
    /// The upstream closed its side: never park it again.
    private(set) var sawEOF = false

    /// Whether the connection may go back to the pool after the current response.
    var canReuse: Bool { state == .active && responseComplete && !sawEOF && !transport.hasQueuedOutput }

    /// Strong: the loop's state lives as long as its loop, and an unowned reference cost a checked retain and a
    /// release per use. (The state owns the pool that may hold this connection; the pool closes what it drops.)
    private let loopState: LoopState
    /// Counted among the loop's live objects (debug builds).
    private let liveToken: LiveToken
    private var isCorked = false

    /// `budget`: the unit taken for this connection, given back at `close()`.
    init(transport: TransportChannel, serverKey: String, serverSlot: Int, budget: ServerBudget, limits: HTTP1Limits,
         loopState: LoopState) {
        self.loopState = loopState
        self.budget = budget
        liveToken = LiveToken(loopState, .upstreamConnection)
        self.transport = transport
        self.serverKey = serverKey
        self.serverSlot = serverSlot
        parser = HTTP1ResponseParser(limits: limits)
        timer = LoopTimer(loop: transport.loop) { [unowned self] in self.timerFired() }
        // Strong captures: the transport drops both at `close()`, which every path out of a connection goes through;
        // an unowned capture cost a checked retain and a release per socket event.
        transport.onReadable = { self.readable() }
        transport.onWritable = { self.writable() }
        transport.resumeReading()
    }

    var isClosed: Bool { state == .closed }

    /// A connection that never served a request is as clean as one whose response was read to the end.
    func markFresh() { responseComplete = true }
    var isUsableIdle: Bool { state == .idle }
    var hasPendingOutput: Bool { transport.isBlocked }

    /// Binds the connection to an exchange expecting a response to `method`.
    func attach(_ d: any UpstreamConnectionDelegate, method: String) {
        if state == .idle {
            reused = true
            timer.disarm()
        }
        state = .active
        pool = nil
        delegate = d
        receivedAny = false
        responseComplete = false
        parser.expectResponse(toMethod: method)
    }

    /// Sends bytes; false when the socket failed (the delegate hears of it too).
    @discardableResult
    func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard state != .closed else { return false }
        if !isCorked && loopState.isBatching {
            isCorked = true
            transport.cork()
            loopState.addCorked(self)
        }
        if transport.write(bytes) { return true }
        fail(.io(IOError(errno: 32, function: "send")))
        return false
    }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { send($0) } }

    func pauseReading() { transport.pauseReading() }
    func resumeReading() { if state != .closed { transport.resumeReading() } }

    /// Turns the connection into a raw byte pipe (after `101 Switching Protocols`).
    func becomeTunnel() {
        state = .tunnel
        timer.disarm()
    }

    func becomeIdle(pool: UpstreamPool, timeout: TimeSpan) {
        state = .idle
        delegate = nil
        self.pool = pool
        timer.arm(after: timeout)
        transport.resumeReading()
    }

    func close() {
        guard state != .closed else { return }
        state = .closed
        timer.disarm()
        delegate = nil
        if let p = pool { pool = nil; p.evict(self) }
        transport.close()
        loopState.releaseBudget(budget, slot: serverSlot)
    }

    fileprivate func fail(_ f: UpstreamFailure) {
        let d = delegate
        close()
        d?.upstreamFailed(self, error: f)
    }

    private func timerFired() {
        loopState.loop.assertInLoop()
        switch state {
        case .idle: close()
        case .active: delegate?.upstreamTimedOut(self)
        case .tunnel, .closed: break
        }
    }

    private func writable() {
        loopState.loop.assertInLoop()
        loopState.beginBatch()
        defer { loopState.endBatch() }
        do {
            if try transport.flush() { delegate?.upstreamDrained(self) }
        } catch {
            fail(.io(error))
        }
    }

    private func readable() {
        loopState.loop.assertInLoop()
        loopState.beginBatch()
        defer { loopState.endBatch() }
        let buf = transport.loop.readBuffer
        while state != .closed && !transport.isReadingPaused {
            let r: ReadResult
            do { r = try transport.read(into: buf) } catch {
                fail(.io(error))
                return
            }
            switch r {
            case .wouldBlock: return
            case .eof:
                handleEOF()
                return
            case .bytes(let n):
                let input = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[0..<n])
                switch state {
                case .idle:
                    // An idle upstream must stay silent; anything it says makes it unusable.
                    close()
                    return
                case .tunnel:
                    delegate?.upstreamTunnelBytes(self, input)
                case .active:
                    receivedAny = true
                    // The loop's most recently freed head, taken just before it is needed: still in cache, where a
                    // spare kept per connection had gone cold by that connection's next response.
                    if !parser.hasSpare, let spare = loopState.fieldsPool.take() { parser.recycle(spare) }
                    deliver(input)
                case .closed:
                    return
                }
                // Short read: drained (the source is level-triggered and fires again for more).
                if n < buf.count && transport.shortReadDrains { return }
            }
        }
    }

    private func deliver(_ input: UnsafeRawBufferPointer) {
        var offset = 0
        // `.end` may come without consuming bytes: ask again at the end of input until nothing happens.
        while state == .active {
            if offset >= input.count && responseComplete { break }
            let slice = UnsafeRawBufferPointer(rebasing: input[offset...])
            var parsed: HTTP1ResponseEvent? = nil
            let consumed: Int
            do { consumed = try parser.parse(slice, event: &parsed) } catch {
                fail(.badResponse(error))
                return
            }
            offset += consumed
            guard let event = parsed.take() else {
                if consumed == 0 { break }
                continue
            }
            if case .end = event { responseComplete = true }
            // A 101 head: told by the parser, not by binding the head out of the event (another copy).
            var switching = false
            if case .head = event { switching = parser.switchedProtocols }
            // Handed over, not shared: the exchange edits the head's fields in place.
            delegate?.upstream(self, event: consume event, in: slice)
            if switching {
                // Bytes after a 101 head belong to the tunnel.
                if offset < input.count, state == .tunnel {
                    delegate?.upstreamTunnelBytes(self, UnsafeRawBufferPointer(rebasing: input[offset...]))
                }
                return
            }
        }
        if offset < input.count && state == .active && delegate != nil && responseComplete {
            // Bytes after a complete response: the upstream broke framing; never reuse it.
            close()
        }
    }

    private func handleEOF() {
        switch state {
        case .idle, .closed:
            close()
        case .tunnel:
            let d = delegate
            close()
            d?.upstreamFailed(self, error: .closedEarly)
        case .active:
            do {
                sawEOF = true
                if let event = try parser.inputClosed() {
                    responseComplete = true
                    delegate?.upstream(self, event: event, in: UnsafeRawBufferPointer(start: nil, count: 0))
                    close()
                    return
                }
                fail(.closedEarly)
            } catch {
                fail(receivedAny ? .badResponse(error) : .closedEarly)
            }
        }
    }
}

extension UpstreamConnection: Corkable {
    func uncork() {
        guard isCorked else { return }
        isCorked = false
        if state == .closed { return }
        if !transport.uncork() { fail(.io(IOError(errno: 32, function: "send"))) }
    }
}
