import GatewayLoop
import GatewayTLS

/// The client side of a TLS handshake (to an upstream, to Redis), driven by socket readiness.
public enum TLSClientHandshake {
    public struct Failure: Error, Sendable { public let reason: String }

    /// Starts the handshake; `completion` runs once on the loop with the ready transport or the reason it failed.
    /// Returns the transport while the handshake is pending: closing it after clearing its handlers cancels the
    /// handshake, and `completion` then never runs.
    @discardableResult
    public static func start(channel: SocketChannel, context: TLSContext, serverName: String,
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
