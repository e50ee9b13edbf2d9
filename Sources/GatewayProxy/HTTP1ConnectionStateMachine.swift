import GatewayCore

/// The lifecycle of one HTTP/1.1 client connection as a value: one exchange at a time, keep-alive, pipelined bytes,
/// the upgrade to a tunnel, and closing. `ClientConnection` feeds it what happened on the socket, the parser, the
/// timer and the exchange, and carries out what it answers.
///
/// It owns these decisions: where bytes read from the client go (parser, stash, tunnel), whether the connection is
/// kept alive after an exchange (and so how a response is framed), what the timer means when it fires, what an EOF
/// from the client means, and why reading is paused.
struct HTTP1ConnectionStateMachine {
    enum State: Equatable {
        /// Between requests, or reading a head (the header timer runs; the keep-alive timer when idle).
        case awaitingHead
        /// One request's exchange runs; bytes past its end wait in the stash.
        case exchange
        /// `101` passed: client bytes go to the exchange's tunnel.
        case tunnel
        /// Our output is being flushed, then the connection closes.
        case closing
        case closed
    }

    /// Why reading from the client is paused; reading resumes when no reason is left.
    struct PauseReasons: OptionSet, Equatable {
        let rawValue: UInt8
        /// Waiting for the current response before parsing the next request (pipelining).
        static let pipeline = PauseReasons(rawValue: 1)
        /// The upstream (or replay store) is not taking request bytes yet.
        static let backPressure = PauseReasons(rawValue: 2)
        /// Our own output is queued and the connection is closing after it.
        static let closing = PauseReasons(rawValue: 4)
    }

    private(set) var state: State = .awaitingHead
    private(set) var paused: PauseReasons = []
    /// The current request's end was parsed.
    private(set) var requestComplete = false
    /// The connection carries another request after this exchange.
    private(set) var keepAlive = true
    /// The current request has no body (its end follows its head at once).
    private var requestBodyless = true
    /// The exchange ended before the parser reported the end of its bodiless request: that end is swallowed.
    private var skipNextEnd = false
    /// The response being written is chunk-encoded toward the client.
    private(set) var responseChunked = false
    /// The response being written ends when the connection closes (an HTTP/1.0 client, unknown length).
    private var responseCloseDelimited = false
    /// The gateway is draining: whatever request is still served is the connection's last.
    private(set) var draining = false

    var isOpen: Bool { state != .closing && state != .closed }

    // MARK: reading

    /// What to do with the next bytes read (or left over) from the client.
    enum Bytes: Equatable {
        /// To the exchange's tunnel.
        case tunnel
        /// To the request parser.
        case parse
        /// Kept until the exchange is over, with reading paused (the next request, or bytes behind an upgrade).
        case stash
        /// Nothing more to do with this input.
        case stop
    }

    /// Where the bytes at the current offset go; `atEnd`: the input is used up; `parserIdle`: no message is half
    /// parsed (the parser may still owe a `.end` without consuming bytes, so it is asked again unless idle).
    func nextBytes(atEnd: Bool, parserIdle: Bool) -> Bytes {
        switch state {
        case .closing, .closed: return .stop
        case .tunnel: return atEnd ? .stop : .tunnel
        case .awaitingHead, .exchange:
            if atEnd && (requestComplete || parserIdle) { return .stop }
            return requestComplete ? .stash : .parse
        }
    }

    /// Whether the header timer starts with these bytes (the first bytes of a head).
    func startsHead(parserIdle: Bool, hasBytes: Bool) -> Bool { state == .awaitingHead && parserIdle && hasBytes }

    mutating func pause(_ r: PauseReasons) { paused.insert(r) }

    /// Whether reading resumes now.
    mutating func unpause(_ r: PauseReasons) -> Bool {
        paused.remove(r)
        return paused.isEmpty && isOpen
    }

    // MARK: requests

    /// A request head was parsed: its exchange starts (the header and keep-alive timers stop).
    mutating func requestHead(keepAlive: Bool, bodyless: Bool) {
        state = .exchange
        requestComplete = false
        self.keepAlive = keepAlive && !draining
        requestBodyless = bodyless
        responseChunked = false
        responseCloseDelimited = false
    }

    /// The parser reported the request's end; false when it belongs to an exchange that already ended.
    mutating func requestEnded() -> Bool {
        if skipNextEnd {
            skipNextEnd = false
            return false
        }
        requestComplete = true
        return true
    }

    /// The request body went over `max_body_bytes`: whatever answers it, the connection closes after.
    mutating func bodyTooLarge() { keepAlive = false }

    enum ParseFailure: Equatable {
        /// The exchange refuses (answers, or cuts a started response); the connection closes after.
        case refuseExchange
        /// No exchange: answer with the error and close.
        case answerAndClose
    }

    mutating func parseFailed(hasExchange: Bool) -> ParseFailure {
        keepAlive = false
        return hasExchange ? .refuseExchange : .answerAndClose
    }

    // MARK: the client's end

    enum EOF: Equatable {
        case close
        /// The exchange goes too (its request is incomplete, or it was a tunnel).
        case abortAndClose
        /// The request was complete: finish the response, then close.
        case finishThenClose
    }

    mutating func clientEOF() -> EOF {
        switch state {
        case .awaitingHead, .closing, .closed:
            return .close
        case .tunnel:
            return .abortAndClose
        case .exchange:
            guard requestComplete else { return .abortAndClose }
            keepAlive = false
            paused.insert(.closing)
            return .finishThenClose
        }
    }

    // MARK: writing

    /// Our output backed up: whether to start the timer that cuts a client who stopped reading.
    func outputBlocked(timerArmed: Bool) -> Bool { !timerArmed && (state == .exchange || state == .tunnel) }

    enum Writable: Equatable {
        case close
        /// The backlog drained: stop the stalled-reader timer and let the upstream be read again.
        case resumeUpstream
        case none
    }

    func outputDrained() -> Writable {
        switch state {
        case .closing: return .close
        case .exchange, .tunnel: return .resumeUpstream
        default: return .none
        }
    }

    // MARK: timers

    enum Timer: Equatable {
        case none
        case close
        /// A head was being read when the header timer ran out: `408`, then close.
        case requestTimeout
        /// The client stopped reading for `keepalive_timeout` while we had output for it.
        case abortAndClose
    }

    func timerFired(partialHead: Bool, outputBlocked: Bool) -> Timer {
        switch state {
        case .awaitingHead: return partialHead ? .requestTimeout : .close
        case .closing: return .close
        case .exchange, .tunnel: return outputBlocked ? .abortAndClose : .none
        case .closed: return .none
        }
    }

    // MARK: responses

    /// How the response head toward the client is framed.
    struct ResponseFraming: Equatable {
        enum Length: Equatable {
            /// No body fields (HEAD, 204, 304, 1xx).
            case none
            case contentLength(Int)
            case chunked
            /// The body ends when the connection closes.
            case untilClose
        }
        var length: Length
        /// `Connection: close`.
        var close: Bool
        /// `Connection: keep-alive` (an HTTP/1.0 client kept alive).
        var keepAliveField: Bool
    }

    /// The upstream's response head is about to go to the client.
    mutating func responseHead(upstream: BodyFraming, bodyless: Bool, clientIsHTTP10: Bool,
                               draining: Bool) -> ResponseFraming {
        var length = ResponseFraming.Length.none
        if !bodyless {
            switch upstream {
            case .contentLength(let n):
                length = .contentLength(n)
            case .chunked, .untilClose:
                if clientIsHTTP10 {
                    length = .untilClose
                    responseCloseDelimited = true
                    keepAlive = false
                } else {
                    length = .chunked
                    responseChunked = true
                }
            case .none:
                length = .contentLength(0)
            }
        }
        if draining { keepAlive = false }
        return ResponseFraming(length: length, close: !keepAlive, keepAliveField: keepAlive && clientIsHTTP10)
    }

    /// The gateway answers the current request itself. `close`: the answer leaves the connection unusable (a body
    /// left unread, a parse error). Returns whether the answer says `Connection: close`.
    mutating func answering(close: Bool) -> Bool {
        if close || (!requestComplete && !requestBodyless) { keepAlive = false }
        return !keepAlive
    }

    /// An answer without a request head (parse error, timeout): the connection always closes after it.
    mutating func answeringWithoutRequest() { keepAlive = false }

    /// `101` forwarded: the connection is a tunnel until one side closes.
    mutating func enterTunnel() {
        state = .tunnel
        paused.remove(.pipeline)
    }

    enum ExchangeEnd: Equatable {
        /// Close once the output is flushed.
        case closeAfterFlush
        /// Keep alive: the keep-alive timer runs, and stashed bytes (a pipelined request) are parsed now.
        case readNext
    }

    /// The exchange is over (its response written, or answered). `draining`: the gateway is shutting down.
    mutating func exchangeEnded(draining: Bool) -> ExchangeEnd {
        if state == .closed || state == .closing { return .closeAfterFlush }
        if !requestComplete {
            if requestBodyless && state == .exchange {
                // The parser has not reported the end yet (an answer during the head): swallow it when it does.
                skipNextEnd = true
            } else {
                // A body left unread cannot be told from the next request.
                keepAlive = false
            }
        }
        if draining { keepAlive = false }
        if state == .tunnel || !keepAlive || responseCloseDelimited { return .closeAfterFlush }
        state = .awaitingHead
        requestComplete = false
        paused.remove(.backPressure)
        return .readNext
    }

    enum Closing: Equatable { case closeNow, waitForFlush }

    /// Stops reading and closes once our queued output is written (bounded by the header timer).
    mutating func closeAfterFlush(outputQueued: Bool) -> Closing {
        state = .closing
        paused.insert(.closing)
        return outputQueued ? .waitForFlush : .closeNow
    }

    /// Whether this is the first close (what is open is released only once).
    mutating func closed() -> Bool {
        guard state != .closed else { return false }
        state = .closed
        return true
    }

    enum Drain: Equatable {
        /// Idle: arm the timer for the drain's quiet period, then close (a request already on the wire still lands).
        case quietPeriod
        case none
    }

    /// The gateway started draining. Nothing a client already sent is dropped: an idle connection waits a quiet
    /// period for a request that may be on the wire, and every request still served is answered with
    /// `Connection: close` (a head being read, an exchange in flight, one arriving in the quiet period).
    mutating func drain(partialHead: Bool) -> Drain {
        guard !draining else { return .none }
        draining = true
        switch state {
        case .awaitingHead:
            keepAlive = false
            // A head being read keeps its header timer (408 when it runs out).
            return partialHead ? .none : .quietPeriod
        case .exchange:
            keepAlive = false
            return .none
        case .tunnel, .closing, .closed:
            return .none
        }
    }
}
