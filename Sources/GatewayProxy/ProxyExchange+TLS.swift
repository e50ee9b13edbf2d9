import GatewayLoop
import GatewayTLS

extension ProxyExchange {
    /// Runs the TLS handshake on a fresh upstream socket, then attaches it; a failure (wrong CA, name mismatch)
    /// rests the server and tries the next, ending in `502 upstream_unavailable`.
    func handshakeTLS(_ channel: SocketChannel, context: TLSContext, serverName: String, serverKey: String,
                      attempt: ConnectAttempt) {
        let limits = snapshot.parserLimits
        let logger = loopState.server.logger
        let transport = UpstreamTLSHandshake.start(channel: channel, context: context, serverName: serverName) { [self] result in
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

/// The client side of a TLS handshake with an upstream, driven by socket readiness.
enum UpstreamTLSHandshake {
    struct Failure: Error { let reason: String }

    /// Starts the handshake; `completion` runs once on the loop with the ready transport or the reason it failed.
    /// Returns the transport while the handshake is pending: closing it after clearing its handlers cancels the
    /// handshake, and `completion` then never runs.
    @discardableResult
    static func start(channel: SocketChannel, context: TLSContext, serverName: String,
                      completion: @escaping (Result<TransportChannel, Failure>) -> Void) -> TransportChannel? {
        let tls: TLSConnection
        do { tls = try TLSConnection(context: context, serverName: serverName) } catch {
            channel.close()
            completion(.failure(Failure(reason: error.reason)))
            return nil
        }
        let transport = TransportChannel(channel: channel, tls: tls)
        let buffer = channel.loop.readBuffer
        // The read handler holds the transport until the handshake resolves (nothing else does yet).
        let step: () -> Void = {
            switch transport.continueHandshake(buffer: buffer) {
            case .pending:
                break
            case .complete:
                transport.onReadable = nil
                transport.onWritable = nil
                transport.pauseReading()
                completion(.success(transport))
            case .failed(let reason):
                transport.onReadable = nil
                transport.onWritable = nil
                transport.close()
                completion(.failure(Failure(reason: reason)))
            }
        }
        transport.onReadable = step
        transport.onWritable = { _ = try? transport.flush() }
        transport.resumeReading()
        step()
        return transport
    }
}
