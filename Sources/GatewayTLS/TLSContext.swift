internal import COpenSSL

/// Shared TLS settings for many connections: one per listener (server), per upstream or for the Redis store (client).
public final class TLSContext: @unchecked Sendable {
    /// The context new connections start on; for a server, the one holding the default certificate.
    let primary: SSLContextHandle
    /// Server side: one context per certificate, in configuration order (first = default = `primary`).
    let certificateContexts: [SSLContextHandle]
    /// Server side: ALPN names in server preference order.
    let alpnPreference: [[UInt8]]
    /// True for a listener context, false for an upstream context.
    let isServer: Bool

    // Immutable after init, and OpenSSL allows SSL_new from many threads on a configured SSL_CTX,
    // which is why the class may be @unchecked Sendable.
    private init(primary: SSLContextHandle, certificateContexts: [SSLContextHandle], alpnPreference: [[UInt8]], isServer: Bool) {
        self.primary = primary
        self.certificateContexts = certificateContexts
        self.alpnPreference = alpnPreference
        self.isServer = isServer
    }

    /// Server side: TLS 1.2/1.3, ECDHE+AEAD ciphers, tickets on, renegotiation off, ALPN from `alpn`
    /// in server preference order, certificate chain chosen by SNI (first is the default).
    public static func server(certificates: [CertificatePaths], alpn: [String] = ["h2", "http/1.1"]) throws(TLSError) -> TLSContext {
        try makeServer(certificates: certificates, alpn: alpn, clientCAFile: nil)
    }

    /// `server(...)` with a knob for tests: `clientCAFile` makes the server demand a client certificate issued by
    /// that CA, to check what a client context sends.
    static func makeServer(certificates: [CertificatePaths], alpn: [String], clientCAFile: String?) throws(TLSError) -> TLSContext {
        guard !certificates.isEmpty else {
            throw TLSError(reason: "a TLS listener needs at least one certificate")
        }
        _ = try ALPN.wireFormat(alpn)  // validates the names
        var contexts: [SSLContextHandle] = []
        for paths in certificates {
            let handle = try SSLContextHandle(server: true)
            try configureServer(handle.pointer)
            try loadCertificate(paths, into: handle.pointer)
            if let clientCAFile {
                ERR_clear_error()
                guard SSL_CTX_load_verify_locations(handle.pointer, clientCAFile, nil) == 1 else {
                    throw TLSError.drainingQueue(context: "client CA file \(clientCAFile)", fallback: "cannot load")
                }
                SSL_CTX_set_verify(handle.pointer, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
            }
            contexts.append(handle)
        }
        let context = TLSContext(
            primary: contexts[0], certificateContexts: contexts,
            alpnPreference: alpn.map { Array($0.utf8) }, isServer: true)
        context.installServerCallbacks()
        return context
    }

    /// Client side for upstreams: verifies the peer (against `caFile`, else the system store) unless
    /// `verify` is false, and offers `alpn`. Hostname check and SNI come from the connection's server name.
    public static func client(caFile: String?, verify: Bool, alpn: [String] = ["http/1.1"]) throws(TLSError) -> TLSContext {
        try makeClient(caFile: caFile, verify: verify, alpn: alpn, certificate: nil, onlyTLS12: false)
    }

    /// Client side that can prove who it is (the Redis store with `replay.redis.tls`): as `client(caFile:verify:alpn:)`,
    /// and shows `certificate` to servers that ask for one; nil shows none. No ALPN unless `alpn` names some.
    public static func client(caFile: String?, verify: Bool, alpn: [String] = [],
                              certificate: CertificatePaths?) throws(TLSError) -> TLSContext {
        try makeClient(caFile: caFile, verify: verify, alpn: alpn, certificate: certificate, onlyTLS12: false)
    }

    /// `client(...)` with a knob for tests: `onlyTLS12` caps the version to exercise TLS 1.2 paths.
    static func makeClient(caFile: String?, verify: Bool, alpn: [String], certificate: CertificatePaths? = nil,
                           onlyTLS12: Bool) throws(TLSError) -> TLSContext {
        let handle = try SSLContextHandle(server: false)
        let ctx = handle.pointer
        if onlyTLS12 { try handle.setMaxProtocolVersion(TLS1_2_VERSION) }
        ERR_clear_error()
        if let caFile {
            guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
                throw TLSError.drainingQueue(context: "ca_file \(caFile)", fallback: "cannot load")
            }
        } else if SSL_CTX_set_default_verify_paths(ctx) != 1 {
            throw TLSError.drainingQueue(context: "system CA store", fallback: "cannot load")
        }
        SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        if let certificate { try loadCertificate(certificate, into: ctx) }
        let wire = try ALPN.wireFormat(alpn)
        if !wire.isEmpty {
            ERR_clear_error()
            // Unlike most OpenSSL calls, 0 means success here.
            guard SSL_CTX_set_alpn_protos(ctx, wire, UInt32(wire.count)) == 0 else {
                throw TLSError.drainingQueue(context: "ALPN", fallback: "cannot set protocols")
            }
        }
        return TLSContext(primary: handle, certificateContexts: [], alpnPreference: [], isServer: false)
    }

    /// Ciphers for TLS 1.2: forward secrecy and AEAD only (Mozilla "intermediate").
    /// TLS 1.3 suites keep OpenSSL's defaults, which are all AEAD.
    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    private static func configureServer(_ ctx: OpaquePointer) throws(TLSError) {
        ERR_clear_error()
        guard SSL_CTX_set_cipher_list(ctx, tls12Ciphers) == 1 else {
            throw TLSError.drainingQueue(context: "cipher list", fallback: "rejected")
        }
        // SSL_OP_NO_RENEGOTIATION is SSL_OP_BIT(30), a macro expression Swift does not import.
        let noRenegotiation: UInt64 = 1 << 30
        _ = SSL_CTX_set_options(ctx, noRenegotiation)
    }

    private static func loadCertificate(_ paths: CertificatePaths, into ctx: OpaquePointer) throws(TLSError) {
        ERR_clear_error()
        guard SSL_CTX_use_certificate_chain_file(ctx, paths.certificateChain) == 1 else {
            throw TLSError.drainingQueue(context: "certificate_chain \(paths.certificateChain)", fallback: "cannot load")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, paths.privateKey, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError.drainingQueue(context: "private_key \(paths.privateKey)", fallback: "cannot load")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSError.drainingQueue(
                context: "private_key \(paths.privateKey)", fallback: "does not match \(paths.certificateChain)")
        }
    }
}
