import GatewayCore
import GatewayHTTP2
import GatewayLoop

/// One HTTP/2 stream = one exchange: its own gate verdict, replay admission and upstream connection.
///
/// Request DATA is reported consumed (reopening the client's window) only once the upstream took it. The session's
/// own state for the stream is the superclass: one object per stream, handed over with each event.
final class HTTP2Stream: HTTP2StreamState {
    /// Strong: an unowned reference cost a checked retain and a release on each of the ~9 uses per request. The cycle
    /// (connection, session, stream) is broken when the session drops a closed stream, and for all of them when
    /// `forceClose` lets go of the session.
    let connection: HTTP2ClientConnection
    /// Kept from the head for answers and the log; the head itself goes to the gate, which rewrites it in place.
    private(set) var method = ""
    private(set) var target = ""
    var exchange: ProxyExchange?
    var pendingTrailers: HTTPHeaders?
    var logInfo = ExchangeLogInfo()
    private var requestBodyBytes = 0
    private var bytesWritten = 0
    private let startNanos: UInt64
    /// The exchange asked for request-body back-pressure: DATA stays unconsumed until it resumes.
    private var bodyPaused = false
    private var heldUnconsumed = 0
    private var responseEnded = false
    private var tunnel = false
    private var isWebSocket = false
    private var logged = false

    /// Made by the session when the stream's HEADERS begin; a head the session refuses itself (431) never reaches
    /// `begin`, and the object goes with the session's state.
    init(id: Int32, connection: HTTP2ClientConnection) {
        self.connection = connection
        loopState = connection.loopState
        startNanos = loopState.loop.now()
        liveToken = LiveToken(loopState, .http2Stream)
        super.init(id: id)
    }

    /// The connection's, kept here: one load per use instead of two.
    private let loopState: LoopState
    /// Counted among the loop's live objects (debug builds).
    private let liveToken: LiveToken
    private var session: HTTP2ServerSession? { connection.session }

    // MARK: request

    func begin(head: consuming HTTPRequestHead, endStream: Bool) {
        method = head.method
        target = head.target
        switch loopState.startExchange(consume head, client: ClientInfo(remoteAddress: connection.peerIP, isTLS: connection.isTLS,
                                                                               listener: connection.listener),
                                       downstream: self, log: &logInfo) {
        case .answer(let a, let requestId, let origin):
            answerDirect(a, requestId: requestId, origin: origin)
        case .exchange(let ex):
            exchange = ex
            isWebSocket = ex.plan.isWebSocketUpgrade
            ex.begin()
        }
    }

    /// The session refused the head as over the header-list limit: answered like every answer the gateway makes
    /// (request id, counted, logged), as HTTP/1.1 answers an oversized head.
    func rejectHeadTooLarge() {
        answerDirect(.error(.headersTooLarge), requestId: RequestId.generate(), origin: nil)
    }

    /// Request DATA: body bytes, or tunnel bytes on an extended CONNECT. Where they go (upstream, held, dropped) is
    /// the exchange's decision; bytes it holds stay unconsumed, so flow control stops the client.
    func requestData(_ data: UnsafeRawBufferPointer) {
        requestBodyBytes += data.count
        if let ex = exchange {
            if !isWebSocket && requestBodyBytes > loopState.snapshot.config.limits.maxBodyBytes {
                ex.refuse(.bodyTooLarge)
            } else {
                ex.clientBytes(data)
            }
        }
        if bodyPaused && exchange != nil {
            heldUnconsumed += data.count
        } else {
            session?.consumed(self, count: data.count)
        }
    }

    func requestEnded() {
        let t = pendingTrailers
        pendingTrailers = nil
        exchange?.requestEnd(trailers: t)
    }

    /// The stream is gone: the client reset it, or both sides ended.
    func streamClosed(errorCode: UInt32) {
        if let ex = exchange {
            exchange = nil
            ex.clientGone()
            if !logged { logExchange(status: ex.status == 0 ? 499 : ex.status, exchange: ex) }
        }
    }

    /// The whole connection closed under the stream.
    func connectionClosed() { streamClosed(errorCode: HTTP2ErrorCode.cancel) }

    // MARK: answers of the gateway's own

    private func answerDirect(_ a: GatewayAnswer, requestId: String, origin: String?) {
        logInfo.requestId = requestId
        writeAnswer(a, requestId: requestId, origin: origin)
        logExchange(status: a.status, exchange: nil)
    }

    private func writeAnswer(_ a: GatewayAnswer, requestId: String, origin: String?) {
        guard let session, !responseEnded else { return }
        logInfo.note(a)
        let cors = loopState.snapshot.cors.responseHeaders(origin: origin)
        let fields = a.http2Fields(requestId: requestId, extraHeaders: cors)
        let noBody = a.body.isEmpty || method == "HEAD"
        let h = HTTPResponseHead(status: a.status, version: .http2, headers: HTTPHeaders(fields))
        session.sendResponseHead(self, head: h, endStream: noBody)
        if !noBody {
            a.body.withUnsafeBytes { _ = session.sendData(self, bytes: $0, endStream: true) }
            bytesWritten += a.body.count
        }
        responseEnded = true
        connection.scheduleFlush()
    }

    func logExchange(status: Int, exchange ex: ProxyExchange?) {
        logged = true
        loopState.record(routeIndex: logInfo.routeIndex, auth: logInfo.auth, status: status, startNanos: startNanos,
                         exchange: ex) {
            AccessLogFields(requestId: logInfo.requestId, shop: logInfo.shop, client: logInfo.client ?? connection.peerIP, method: method,
                            path: logInfo.path, target: target, bytesIn: requestBodyBytes, bytesOut: bytesWritten,
                            protocolName: "HTTP/2", traceId: logInfo.traceId)
        }
    }
}

extension HTTP2Stream: ExchangeDownstream {
    var clientVersion: HTTPVersion { .http2 }

    var isDownstreamBlocked: Bool {
        guard let session else { return false }
        return session.bufferedBytes(self) >= HTTP2Settings().responseLowWater
    }

    func downstreamInterim(_ head: HTTPResponseHead) {
        session?.sendResponseHead(self, head: head, endStream: false)
        connection.scheduleFlush()
    }

    func downstreamHead(_ head: inout HTTPResponseHead, upstreamFraming: BodyFraming, isHeadRequest: Bool) {
        guard let session else { return }
        let bodyless = isHeadRequest || head.status == 204 || head.status == 304
        var end = bodyless
        var contentLength: Int?
        switch upstreamFraming {
        case .contentLength(let n):
            // Handed to the session beside the head: appending it to the head's fields could copy them.
            if !bodyless { contentLength = n }
            if n == 0 { end = true }
        case .none:
            end = true
        case .chunked, .untilClose:
            break
        }
        session.sendResponseHead(self, head: head, contentLength: contentLength, endStream: end)
        if end { responseEnded = true }
        connection.scheduleFlush()
    }

    func downstreamBody(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty, !responseEnded, let session else { return }
        bytesWritten += bytes.count
        session.sendData(self, bytes: bytes, endStream: false)
        connection.scheduleFlush()
    }

    func downstreamEnd(trailers: HTTPHeaders?) {
        guard !responseEnded, let session else { return }
        responseEnded = true
        if let t = trailers, t.count > 0 {
            session.sendTrailers(self, trailers: t)
        } else {
            session.sendData(self, bytes: UnsafeRawBufferPointer(start: nil, count: 0), endStream: true)
        }
        connection.scheduleFlush()
    }

    func downstreamSwitchProtocols(_ head: HTTPResponseHead) {
        guard let session else { return }
        // RFC 8441: the tunnel is accepted with a 2xx; the RFC 6455 handshake fields stay between us and the upstream.
        var h = HTTPResponseHead(status: 200, version: .http2, headers: head.headers)
        h.headers.removeAll(named: "Sec-WebSocket-Accept")
        h.headers.removeAll(named: "Upgrade")
        h.headers.removeAll(named: "Connection")
        session.sendResponseHead(self, head: h, endStream: false)
        tunnel = true
        connection.scheduleFlush()
        logExchange(status: 200, exchange: exchange)
        // The client's DATA is unconsumed while the upstream was connecting: let it flow now.
        downstreamResumeRequestBody()
    }

    func downstreamTunnelBytes(_ bytes: UnsafeRawBufferPointer) {
        downstreamBody(bytes)
    }

    func downstreamAnswer(_ answer: GatewayAnswer) {
        writeAnswer(answer, requestId: exchange?.plan.requestId ?? RequestId.generate(), origin: exchange?.plan.origin)
    }

    func downstreamAbort() {
        if tunnel {
            // The upstream closed the WebSocket: end the stream cleanly.
            downstreamEnd(trailers: nil)
            return
        }
        responseEnded = true
        session?.resetStream(streamID: id, errorCode: HTTP2ErrorCode.internalError)
        connection.scheduleFlush()
    }

    func downstreamPauseRequestBody() { bodyPaused = true }

    func downstreamResumeRequestBody() {
        bodyPaused = false
        if heldUnconsumed > 0 {
            session?.consumed(self, count: heldUnconsumed)
            heldUnconsumed = 0
            connection.scheduleFlush()
        }
    }

    func downstreamFinished(_ ex: ProxyExchange) {
        guard exchange === ex else { return }
        exchange = nil
        if !tunnel && !logged { logExchange(status: ex.status, exchange: ex) }
        if let fields = ex.takeRequestFields() { loopState.fieldsPool.give(fields) }
        // What the client still sends for this stream is dropped, so its window must not stay shut.
        downstreamResumeRequestBody()
    }
}
