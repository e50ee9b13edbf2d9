import GatewayLoop
import GatewayTLS
import GatewayTransport

extension ProxyExchange {
    /// Runs the TLS handshake on a fresh upstream socket, then attaches it; a failure (wrong CA, name mismatch)
    /// rests the server and tries the next, ending in `502 upstream_unavailable`.
    func handshakeTLS(_ channel: SocketChannel, context: TLSContext, serverName: String, serverKey: String,
                      attempt: ConnectAttempt) {
        let limits = snapshot.parserLimits
        let logger = loopState.server.logger
        let transport = TLSClientHandshake.start(channel: channel, context: context, serverName: serverName) { [self] result in
            guard isCurrent(attempt) else {
                // Orphaned and cancelled handshakes never call back; this is only a guard.
                if case .success(let t) = result { t.close() }
                attempt.failed()
                return
            }
            handshakeEnded(attempt) {
                switch result {
                case .success(let transport):
                    attempt.succeeded()
                    loopState.pool.markHealthy(slot: attempt.slot)
                    attach(UpstreamConnection(transport: transport, serverKey: serverKey, serverSlot: attempt.slot,
                                              budget: attempt.budget, limits: limits, loopState: loopState))
                case .failure(let failure):
                    attempt.failed()
                    logger.warning("upstream TLS handshake failed",
                                   metadata: ["upstream": "\(serverKey)", "reason": "\(failure.reason)"])
                    loopState.pool.markFailed(slot: attempt.slot)
                    retryConnect()
                }
            }
        }
        if !attempt.ended { attempt.handshaking(transport) }
    }
}
