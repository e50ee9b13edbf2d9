import GatewayCore
import GatewayTransport
import GatewayHTTP1
import GatewayLoop

/// Getting an upstream connection: an idle one from the pool, a new one within the server's budget, or a place in
/// the queue; connect timeouts, retries on the next server, and the attach that sends the request head.
extension ProxyExchange {
    func connect() {
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
            plan.head.headers.replace(name: "Host", value: target.hostHeaders[i])
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
    func open(server i: Int) {
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

    /// Lets go of the connect in flight, if any: it finishes on its own (see `ConnectAttempt`).
    func orphanAttempt() {
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

    func noConnection(_ code: GatewayErrorCode) {
        guard case .answer(let code, let release) = machine.noConnection(code) else { return }
        if release { releaseToken() }
        answer(.error(code))
    }

    func connectTimedOut() {
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

    func armResponseTimer(_ c: UpstreamConnection) {
        if c.hasPendingOutput {
            armTimerOnDrain = true
        } else {
            c.timer.arm(after: target.responseTimeout)
        }
    }
}
