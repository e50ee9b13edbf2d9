import GatewayCore
import GatewayHTTP1
import GatewayLoop

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
    func rewrite(_ out: inout HTTPResponseHead) {
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
