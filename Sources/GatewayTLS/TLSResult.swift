/// What a non-blocking TLS step did, telling the loop what to wait for next.
public enum TLSResult: Sendable, Equatable {
    /// The step finished (handshake done, or bytes were read / written).
    case complete
    /// More ciphertext from the peer is needed: feed it, then call again.
    case wantRead
    /// OpenSSL wants to write first: drain ciphertext to the socket, then call again.
    case wantWrite
    /// The peer sent close_notify: no more plaintext will come.
    case closed
    /// The connection is unusable; drain ciphertext once more (it may hold an alert), then close.
    case failed(TLSError)
}
