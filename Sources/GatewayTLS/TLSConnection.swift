internal import COpenSSL

/// One TLS session over memory: the loop feeds it ciphertext from the socket and drains ciphertext
/// for the socket; plaintext goes in and out through `read` / `write`. Owned by one loop.
///
/// After every call, drain the pending ciphertext to the socket: reads may produce output too
/// (TLS 1.3 key updates, alerts), and a failed step often leaves an alert to send.
public final class TLSConnection {
    /// The `SSL`; it owns both memory BIOs.
    let ssl: OpaquePointer
    /// Ciphertext from the peer is written here, and OpenSSL reads it.
    private let networkIn: OpaquePointer
    /// OpenSSL writes ciphertext for the peer here, and `drainCiphertext` reads it.
    private let networkOut: OpaquePointer
    /// Kept so the SSL_CTX (and the callbacks' owner) outlive the SSL.
    public let context: TLSContext

    /// Starts a connection on `context`; on the client side `serverName` is sent as SNI
    /// (unless it is an IP address) and checked against the upstream's certificate.
    public init(context: TLSContext, serverName: String? = nil) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.primary.pointer) else {
            throw TLSError.drainingQueue(context: "SSL_new", fallback: "out of memory")
        }
        guard let input = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.drainingQueue(context: "BIO_new", fallback: "out of memory")
        }
        guard let output = BIO_new(BIO_s_mem()) else {
            BIO_free(input)
            SSL_free(ssl)
            throw TLSError.drainingQueue(context: "BIO_new", fallback: "out of memory")
        }
        SSL_set_bio(ssl, input, output)  // the SSL now frees both BIOs
        self.ssl = ssl
        self.networkIn = input
        self.networkOut = output
        self.context = context
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let serverName { try expectPeer(named: serverName) }
        }
    }

    deinit {
        SSL_free(ssl)
    }

    /// True for a connection accepted from a client, false for one to an upstream.
    public var isServer: Bool { context.isServer }

    /// Client side: SNI plus the hostname (or IP address) the upstream certificate must carry.
    private func expectPeer(named name: String) throws(TLSError) {
        ERR_clear_error()
        guard let param = SSL_get0_param(ssl) else {
            throw TLSError(reason: "no verification parameters")
        }
        // An IP literal is checked against the IP SANs; SNI must not carry one (RFC 6066 section 3).
        if X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1 {
            return
        }
        ERR_clear_error()
        guard SSL_set1_host(ssl, name) == 1 else {
            throw TLSError.drainingQueue(context: "server_name \(name)", fallback: "invalid host name")
        }
        // SSL_set_tlsext_host_name is a macro over this call.
        let set = name.withCString { SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0)) }
        guard set == 1 else {
            throw TLSError.drainingQueue(context: "server_name \(name)", fallback: "invalid SNI")
        }
    }

    /// Ciphertext that arrived from the socket.
    public func feed(ciphertext: UnsafeRawBufferPointer) {
        var rest = ciphertext
        while !rest.isEmpty, let base = rest.baseAddress {
            let chunk = min(rest.count, Int(Int32.max))
            // A memory BIO only refuses when out of memory; then the bytes are lost and
            // the next TLS step fails on the broken record stream, which is the honest outcome.
            let written = BIO_write(networkIn, base, Int32(chunk))
            guard written > 0 else { return }
            rest = UnsafeRawBufferPointer(rebasing: rest[Int(written)...])
        }
    }

    /// Tells OpenSSL the socket reached end of file: a later read then reports the truncation
    /// (a peer that closes without close_notify) instead of waiting for more bytes.
    public func feedEndOfInput() {
        // BIO_set_mem_eof_return is a macro over this call; 0 makes an empty BIO read as EOF.
        _ = BIO_ctrl(networkIn, BIO_C_SET_BUF_MEM_EOF_RETURN, 0, nil)
    }

    /// Bytes of ciphertext waiting to go to the socket.
    public var pendingCiphertextCount: Int { Int(BIO_ctrl_pending(networkOut)) }

    /// True when ciphertext is waiting to go to the socket.
    public var hasPendingCiphertext: Bool { pendingCiphertextCount > 0 }

    /// Ciphertext waiting to go to the socket (drains the write BIO); appends into `out`.
    public func drainCiphertext(into out: inout [UInt8]) {
        while true {
            let pending = pendingCiphertextCount
            if pending == 0 { return }
            let start = out.count
            let chunk = min(pending, 1 << 20)
            out.append(contentsOf: repeatElement(0, count: chunk))
            let read = out.withUnsafeMutableBytes { BIO_read(networkOut, $0.baseAddress.map { $0 + start }, Int32(chunk)) }
            out.removeLast(chunk - max(Int(read), 0))
            if read <= 0 { return }
        }
    }

    /// Drives the handshake; call again after feeding ciphertext while it answers `.wantRead`.
    public func handshake() -> TLSResult {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .complete }
        return result(ofFailedCall: rc, step: "handshake")
    }

    /// True once both sides agreed on keys.
    public var isHandshakeComplete: Bool { SSL_is_init_finished(ssl) == 1 }

    /// Decrypts into `buffer`; `.wantRead` when more ciphertext is needed; `.closed` on close_notify.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> (TLSResult, Int) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return (.complete, 0) }
        ERR_clear_error()
        var count = 0
        let rc = SSL_read_ex(ssl, base, buffer.count, &count)
        if rc == 1 { return (.complete, count) }
        return (result(ofFailedCall: rc, step: "read"), 0)
    }

    /// Encrypts plaintext; may accept fewer bytes than given (one record at a time), the caller
    /// passes the rest again later, from the same or another buffer.
    public func write(_ plaintext: UnsafeRawBufferPointer) -> (TLSResult, Int) {
        guard let base = plaintext.baseAddress, plaintext.count > 0 else { return (.complete, 0) }
        ERR_clear_error()
        var count = 0
        let rc = SSL_write_ex(ssl, base, plaintext.count, &count)
        if rc == 1 { return (.complete, count) }
        return (result(ofFailedCall: rc, step: "write"), 0)
    }

    /// Sends close_notify (then drain ciphertext); the peer's close_notify is not waited for.
    public func shutdown() {
        ERR_clear_error()
        // Before the handshake finished there is nothing to close politely; OpenSSL refuses then.
        guard isHandshakeComplete else { return }
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// Maps SSL_get_error after a call that returned `rc`.
    private func result(ofFailedCall rc: Int32, step: String) -> TLSResult {
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ:
            return .wantRead
        case SSL_ERROR_WANT_WRITE:
            return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        case SSL_ERROR_SYSCALL:
            return .failed(TLSError.drainingQueue(context: step, fallback: "connection closed without close_notify"))
        default:
            return .failed(failure(step: step))
        }
    }

    /// The queued errors, plus why the peer's certificate was refused when that was the cause.
    private func failure(step: String) -> TLSError {
        var error = TLSError.drainingQueue(context: step, fallback: "protocol error")
        let verdict = SSL_get_verify_result(ssl)
        if !isServer, verdict != Int(X509_V_OK), let text = X509_verify_cert_error_string(verdict) {
            error.reason += " (certificate verification: \(String(cString: text)))"
        }
        return error
    }
}
