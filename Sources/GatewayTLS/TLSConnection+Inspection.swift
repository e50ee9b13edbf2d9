internal import COpenSSL

extension TLSConnection {
    /// The protocol ALPN settled on ("h2", "http/1.1"), or nil when ALPN was not used.
    public var negotiatedALPN: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// The host name the client asked for with SNI (server side), or the one we sent (client side).
    public var serverNameIndication: String? {
        guard let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return nil }
        return String(cString: name)
    }

    /// The negotiated protocol version, such as "TLSv1.3"; nil before the handshake completes.
    public var protocolVersion: String? {
        guard isHandshakeComplete, let version = SSL_get_version(ssl) else { return nil }
        return String(cString: version)
    }

    /// The negotiated cipher suite in OpenSSL's naming, such as "TLS_AES_128_GCM_SHA256".
    public var cipherSuite: String? {
        guard isHandshakeComplete, let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher) else {
            return nil
        }
        return String(cString: name)
    }

    /// The subject of the peer's leaf certificate in RFC 2253 form ("CN=localhost"), for logs.
    /// On the server side this is the certificate we presented, since clients send none.
    public var peerCertificateSubject: String? {
        let certificate: OpaquePointer?
        if isServer {
            certificate = SSL_get_certificate(ssl)  // not owned: no free
            return certificate.flatMap(Self.subject(of:))
        }
        guard let owned = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(owned) }
        return Self.subject(of: owned)
    }

    /// Server side: the subject of the certificate the client showed, if it showed one (tests check client certificates).
    var clientCertificateSubject: String? {
        guard isServer, let owned = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(owned) }
        return Self.subject(of: owned)
    }

    /// XN_FLAG_RFC2253, spelled out: Swift does not import macros built from other macro expressions.
    private static var rfc2253Flags: UInt {
        let strings = ASN1_STRFLGS_ESC_2253 | ASN1_STRFLGS_ESC_CTRL | ASN1_STRFLGS_ESC_MSB
            | ASN1_STRFLGS_UTF8_CONVERT | ASN1_STRFLGS_DUMP_UNKNOWN | ASN1_STRFLGS_DUMP_DER
        return UInt(strings) | UInt(XN_FLAG_SEP_COMMA_PLUS) | UInt(XN_FLAG_DN_REV) | UInt(XN_FLAG_DUMP_UNKNOWN_FIELDS)
    }

    private static func subject(of certificate: OpaquePointer) -> String? {
        guard let name = X509_get_subject_name(certificate), let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, rfc2253Flags) >= 0 else { return nil }
        let length = Int(BIO_ctrl_pending(bio))
        var bytes = [UInt8](repeating: 0, count: length)
        let read = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(length)) }
        return String(decoding: bytes.prefix(max(Int(read), 0)), as: UTF8.self)
    }

    /// Client side, TLS 1.2 only: asks the server to renegotiate (tests check that servers refuse).
    func requestRenegotiation() -> Bool {
        ERR_clear_error()
        return SSL_renegotiate(ssl) == 1
    }
}
