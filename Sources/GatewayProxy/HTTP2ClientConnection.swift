import GatewayCore
import GatewayTransport
import GatewayHTTP2
import GatewayLoop

/// One HTTP/2 client connection (TLS with ALPN `h2`, or h2c with prior knowledge): the nghttp2 session over a
/// transport, each stream an `HTTP2Stream` with its own gate verdict and upstream exchange.
final class HTTP2ClientConnection: GatewayClient, LoopBatchFinisher {
    let transport: TransportChannel
    let loopState: LoopState
    /// Counted among the loop's live objects (debug builds).
    private let liveToken: LiveToken
    let peerIP: String
    /// Index of the listener this connection came in on (its `trusted_proxies`).
    let listener: Int
    let kind: ListenerKind = .gateway
    private(set) var session: HTTP2ServerSession?
    /// Streams whose head reached this connection and which are not closed; the session holds them (one map).
    private(set) var openStreamCount = 0
    private var timer: LoopTimer?
    private var outScratch: [UInt8] = []
    private var flushScheduled = false
    private var closed = false
    private var pausedForOutput = false
    /// Output queued for the socket above which the session stops producing frames and reading requests.
    static let outputHighWater = 256 * 1024

    init(transport: TransportChannel, peerIP: String, loopState: LoopState, listener: Int = -1) {
        self.listener = listener
        self.transport = transport
        self.peerIP = peerIP
        self.loopState = loopState
        liveToken = LiveToken(loopState, .http2Connection)
    }

    var isTLS: Bool { transport.isTLS }

    /// Starts the session (server SETTINGS go out first); `initial` holds bytes already read (the preface).
    func start(initial: UnsafeRawBufferPointer?) {
        loopState.register(self)
        let limits = loopState.snapshot.config.limits
        let settings = HTTP2Settings(maxHeaderListSize: UInt32(clamping: limits.maxHeaderBytes))
        do {
            session = try HTTP2ServerSession(settings: settings, delegate: self, fieldsPool: loopState.fieldsPool)
        } catch {
            loopState.server.logger.error("cannot start HTTP/2 session", metadata: ["error": "\(error)"])
            forceClose()
            return
        }
        let t = LoopTimer(loop: loopState.loop) { [unowned self] in self.timerFired() }
        timer = t
        t.arm(after: limits.keepaliveTimeout)
        // Strong captures, dropped by the transport at `close()` (in `forceClose`).
        transport.onReadable = { self.readable() }
        transport.onWritable = { self.writable() }
        if let initial, !initial.isEmpty { feed(initial) }
        // Handed over by protocol detection after the drain began: streams already sent finish, then GOAWAY.
        if loopState.draining { drain() }
        flushOutput()
        if !closed { transport.resumeReading() }
    }

    // MARK: input

    private func readable() {
        loopState.loop.assertInLoop()
        // Requests of one read that go to the same upstream connection leave in one send.
        loopState.beginBatch()
        defer { loopState.endBatch() }
        let buf = loopState.loop.readBuffer
        while !closed && !transport.isReadingPaused {
            let r: ReadResult
            do { r = try transport.read(into: buf) } catch {
                forceClose()
                return
            }
            switch r {
            case .wouldBlock:
                flushOutput()
                return
            case .eof:
                forceClose()
                return
            case .bytes(let n):
                feed(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[0..<n]))
                // Short read on plain TCP: drained, so skip the read that would only say EAGAIN (the source is
                // level-triggered and fires again for more).
                if n < buf.count && transport.shortReadDrains {
                    flushOutput()
                    return
                }
            }
        }
        flushOutput()
    }

    private func feed(_ bytes: UnsafeRawBufferPointer) {
        guard let session else { return }
        do { try session.receive(bytes) } catch {
            // A fatal connection error: nghttp2 queued a GOAWAY when it could; send it, then stop reading.
            flushOutput()
            transport.pauseReading()
            if !closed && !transport.hasQueuedOutput { forceClose() }
        }
    }

    // MARK: output

    /// Coalesces output of many stream events into one write, after the events already queued on the loop.
    func scheduleFlush() {
        guard !flushScheduled, !closed else { return }
        flushScheduled = true
        loopState.loop.afterBatch(self)
    }

    /// The scheduled flush: frames from every event of this wake-up leave together.
    func finishBatch() {
        loopState.loop.assertInLoop()
        flushScheduled = false
        flushOutput()
    }

    /// Moves frames from the session to the socket while the socket keeps up; closes when the session is done.
    func flushOutput() {
        guard !closed, let session else { return }
        while transport.queuedCount < HTTP2ClientConnection.outputHighWater {
            outScratch.removeAll(keepingCapacity: true)
            session.produceOutput(into: &outScratch, limit: 64 * 1024)
            if outScratch.isEmpty { break }
            guard transport.write(outScratch) else {
                forceClose()
                return
            }
        }
        if outScratch.capacity > 1 << 20 { outScratch = [] }
        if transport.queuedCount >= HTTP2ClientConnection.outputHighWater {
            // The client does not read: stop reading its requests too (nghttp2's advice).
            if !pausedForOutput {
                pausedForOutput = true
                transport.pauseReading()
            }
        } else if pausedForOutput {
            pausedForOutput = false
            transport.resumeReading()
        }
        if !session.wantsRead && !session.wantsWrite && !transport.hasQueuedOutput {
            forceClose()
        }
    }

    private func writable() {
        loopState.loop.assertInLoop()
        do {
            guard try transport.flush() else { return }
        } catch {
            forceClose()
            return
        }
        flushOutput()
    }

    // MARK: lifecycle

    /// Called when a stream goes away: an idle connection starts its keep-alive clock.
    func streamRemoved() {
        if openStreamCount == 0 { timer?.arm(after: loopState.snapshot.config.limits.keepaliveTimeout) }
    }

    private func timerFired() {
        loopState.loop.assertInLoop()
        guard !closed else { return }
        if openStreamCount == 0 {
            session?.goAway(graceful: false)
            flushOutput()
            if !closed { forceClose() }
        }
    }

    /// Graceful GOAWAY: streams already accepted finish; the connection closes after the last one.
    func drain() {
        guard !closed else { return }
        session?.goAway(graceful: true)
        flushOutput()
    }

    func forceClose() {
        guard !closed else { return }
        closed = true
        timer?.disarm()
        let open = session?.openStreams ?? []
        openStreamCount = 0
        for s in open { (s as? HTTP2Stream)?.connectionClosed() }
        transport.close()
        loopState.unregister(self)
        // Both are released later, together: a callback still running in nghttp2 (this close may come from one)
        // finds the session and its delegate, this connection, alive.
        let s = session
        session = nil
        loopState.releaseLater(self)
        if let s { loopState.releaseLater(s) }
    }
}

extension HTTP2ClientConnection: HTTP2ServerSessionDelegate {
    func session(_ s: HTTP2ServerSession, makeStreamWithID id: Int32) -> HTTP2StreamState {
        HTTP2Stream(id: id, connection: self)
    }

    /// The stream object of an event: always an `HTTP2Stream` (this delegate makes them all); nil only after the
    /// connection dropped its streams (`forceClose`).
    private func open(_ st: HTTP2StreamState) -> HTTP2Stream? {
        guard let stream = st as? HTTP2Stream, !closed else { return nil }
        return stream
    }

    func session(_ s: HTTP2ServerSession, didReceiveHead head: inout HTTPRequestHead, stream st: HTTP2StreamState,
                 endStream: Bool) {
        guard let stream = open(st) else { return }
        timer?.disarm()
        openStreamCount += 1
        stream.begin(head: head.take(), endStream: endStream)
    }

    func session(_ s: HTTP2ServerSession, headTooLarge st: HTTP2StreamState) {
        guard let stream = open(st) else { return }
        openStreamCount += 1
        stream.rejectHeadTooLarge()
    }

    func session(_ s: HTTP2ServerSession, didReceiveData data: UnsafeRawBufferPointer, stream st: HTTP2StreamState) {
        if let stream = open(st) {
            stream.requestData(data)
        } else {
            s.consumed(st, count: data.count)
        }
    }

    func session(_ s: HTTP2ServerSession, didReceiveTrailers trailers: HTTPHeaders, stream st: HTTP2StreamState) {
        open(st)?.pendingTrailers = trailers
    }

    func session(_ s: HTTP2ServerSession, streamEnded st: HTTP2StreamState) {
        open(st)?.requestEnded()
    }

    func session(_ s: HTTP2ServerSession, streamClosed st: HTTP2StreamState, errorCode: UInt32) {
        guard let stream = open(st) else { return }
        openStreamCount -= 1
        stream.streamClosed(errorCode: errorCode)
        streamRemoved()
    }

    func session(_ s: HTTP2ServerSession, didDrainStream st: HTTP2StreamState) {
        open(st)?.exchange?.downstreamDrained()
    }
}
