import GatewayAuth
import GatewayCore
import GatewayHTTP1
import GatewayLoop

extension ClientConnection {
    /// A complete request head arrived.
    func handleHead(_ head: HTTPRequestHead) {
        beginExchangeState(head)
        logInfo = ExchangeLogInfo()
        switch kind {
        case .admin, .echo:
            local = LocalExchange(kind: kind, head: head, connection: self)
            return
        case .gateway:
            break
        }
        // An answer leaves a body unread: the connection cannot carry another request after it.
        let hasBody = head.framing != .none
        switch loopState.startExchange(head, client: ClientInfo(remoteAddress: peerIP, isTLS: isTLS, listener: listener), downstream: self,
                                       log: &logInfo) {
        case .answer(let a, let requestId, let origin):
            answerDirect(a, requestId: requestId, origin: origin, close: hasBody)
        case .exchange(let ex):
            exchange = ex
            ex.begin()
        }
    }

    /// Writes an answer of the gateway's own and ends the exchange. `close`: the answer leaves the connection
    /// unusable (a body left unread, a broken request).
    func answerDirect(_ a: GatewayAnswer, requestId: String, origin: String?, close: Bool) {
        let hadRequest = currentHead != nil
        if hadRequest { _ = machine.answering(close: close) } else { machine.answeringWithoutRequest() }
        logInfo.requestId = requestId
        writeAnswer(a, requestId: requestId, origin: origin)
        logExchange(status: a.status, exchange: nil)
        if hadRequest { endExchangeState() } else { closeAfterFlush() }
    }

    private func writeAnswer(_ a: GatewayAnswer, requestId: String, origin: String?) {
        logInfo.note(a)
        let cors = loopState.snapshot.cors.responseHeaders(origin: origin)
        let bytes = a.serializeHTTP1(requestId: requestId, extraHeaders: cors, keepAlive: machine.keepAlive,
                                     headOnly: currentHead?.method == "HEAD")
        write(bytes)
    }

    func logExchange(status: Int, exchange ex: ProxyExchange?) {
        loopState.record(routeIndex: logInfo.routeIndex, auth: logInfo.auth, status: status,
                         startNanos: requestStartNanos, exchange: ex) {
            AccessLogFields(requestId: logInfo.requestId, shop: logInfo.shop, client: logInfo.client ?? peerIP,
                            method: currentHead?.method ?? "-", path: logInfo.path, target: currentHead?.target ?? "-",
                            bytesIn: requestBodyBytes, bytesOut: bytesWritten,
                            protocolName: currentHead?.version.text ?? "HTTP/1.1", traceId: logInfo.traceId)
        }
    }
}

extension ClientConnection: ExchangeDownstream {
    var clientVersion: HTTPVersion { currentHead?.version ?? .http1_1 }
    var isDownstreamBlocked: Bool { transport.isBlocked }

    func downstreamInterim(_ head: HTTPResponseHead) {
        guard clientVersion == .http1_1 else { return }
        var h = head
        h.version = .http1_1
        var bytes: [UInt8] = []
        HTTP1Serializer.writeResponseHead(h, into: &bytes)
        write(bytes)
    }

    func downstreamHead(_ h: inout HTTPResponseHead, upstreamFraming: BodyFraming, isHeadRequest: Bool) {
        h.version = .http1_1
        let bodyless = isHeadRequest || h.status == 204 || h.status == 304 || h.isInformational
        let framing = machine.responseHead(upstream: upstreamFraming, bodyless: bodyless,
                                           clientIsHTTP10: clientVersion == .http1_0, draining: loopState.draining)
        switch framing.length {
        case .contentLength(let n): h.headers.append(name: "Content-Length", value: String(n))
        case .chunked: h.headers.append(name: "Transfer-Encoding", value: "chunked")
        case .none, .untilClose: break
        }
        if framing.close {
            h.headers.append(name: "Connection", value: "close")
        } else if framing.keepAliveField {
            h.headers.append(name: "Connection", value: "keep-alive")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(h.headers.storage.count + 64)
        HTTP1Serializer.writeResponseHead(h, into: &bytes)
        write(bytes)
    }

    func downstreamBody(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if machine.responseChunked {
            var chunk: [UInt8] = []
            chunk.reserveCapacity(bytes.count + 16)
            HTTP1Serializer.writeChunkHeader(size: bytes.count, into: &chunk)
            chunk.append(contentsOf: bytes)
            chunk.append(contentsOf: HTTP1Serializer.chunkTerminator)
            write(chunk)
        } else {
            write(bytes)
        }
    }

    func downstreamEnd(trailers: HTTPHeaders?) {
        if machine.responseChunked {
            var end: [UInt8] = []
            HTTP1Serializer.writeLastChunk(trailers: trailers, into: &end)
            write(end)
        }
    }

    func downstreamSwitchProtocols(_ head: HTTPResponseHead) {
        var h = head
        h.version = .http1_1
        var bytes: [UInt8] = []
        HTTP1Serializer.writeResponseHead(h, into: &bytes)
        write(bytes)
        logExchange(status: 101, exchange: exchange)
        enterTunnel()
    }

    func downstreamTunnelBytes(_ bytes: UnsafeRawBufferPointer) {
        write(bytes)
    }

    func downstreamAnswer(_ answer: GatewayAnswer) {
        _ = machine.answering(close: false)
        writeAnswer(answer, requestId: exchange?.plan.requestId ?? RequestId.generate(), origin: exchange?.plan.origin)
    }

    func downstreamAbort() {
        forceClose()
    }

    func downstreamPauseRequestBody() { pause(.backPressure) }
    func downstreamResumeRequestBody() { unpause(.backPressure) }

    func downstreamFinished(_ ex: ProxyExchange) {
        guard exchange === ex else { return }
        if machine.state != .tunnel { logExchange(status: ex.status, exchange: ex) }
        endExchangeState()
    }
}
