internal import COpenSSL

/// The one owner of one `SSL_CTX`; freed when the last Swift reference goes.
final class SSLContextHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Makes a server- or client-method SSL_CTX limited to TLS 1.2 and 1.3.
    init(server: Bool) throws(TLSError) {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError.drainingQueue(context: "SSL_CTX_new", fallback: "out of memory")
        }
        pointer = ctx
        // Below TLS 1.2 nothing is both safe and needed by a modern client or upstream.
        guard SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil) == 1 else {
            throw TLSError.drainingQueue(context: "minimum protocol version", fallback: "rejected")
        }
        // Memory BIOs never block; partial writes let the loop bound how much ciphertext it holds,
        // and a moving buffer lets it retry a write from a different array.
        let mode = Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
        _ = SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, mode, nil)
    }

    /// Caps the highest protocol version (tests use it to reach TLS 1.2-only code paths).
    func setMaxProtocolVersion(_ version: Int32) throws(TLSError) {
        ERR_clear_error()
        guard SSL_CTX_ctrl(pointer, SSL_CTRL_SET_MAX_PROTO_VERSION, Int(version), nil) == 1 else {
            throw TLSError.drainingQueue(context: "maximum protocol version", fallback: "rejected")
        }
    }

    deinit {
        SSL_CTX_free(pointer)
    }
}
