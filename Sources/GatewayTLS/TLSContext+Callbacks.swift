internal import COpenSSL

extension TLSContext {
    /// Hooks ALPN selection on every certificate context (OpenSSL asks the context the SNI callback
    /// switched to) and SNI selection on the primary one (OpenSSL asks only the initial context).
    func installServerCallbacks() {
        let owner = Unmanaged.passUnretained(self).toOpaque()
        for handle in certificateContexts {
            SSL_CTX_set_alpn_select_cb(handle.pointer, alpnSelectCallback, owner)
        }
        // SSL_CTX_set_tlsext_servername_callback/_arg are macros over these two calls.
        // The callback is first made a C function pointer, then retyped as the generic one the API takes.
        let typed: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32 = servernameCallback
        let generic = unsafeBitCast(typed, to: (@convention(c) () -> Void).self)
        _ = SSL_CTX_callback_ctrl(primary.pointer, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, generic)
        _ = SSL_CTX_ctrl(primary.pointer, SSL_CTRL_SET_TLSEXT_SERVERNAME_ARG, 0, owner)
    }

    /// The certificate context whose leaf covers `serverName` (SAN DNS names with wildcards,
    /// or the CN when there is no SAN); the first certificate when none does.
    func certificateContext(forServerName serverName: String) -> SSLContextHandle {
        for handle in certificateContexts {
            guard let leaf = SSL_CTX_get0_certificate(handle.pointer) else { continue }
            let flags = UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS)
            if X509_check_host(leaf, serverName, 0, flags, nil) == 1 {
                return handle
            }
        }
        return primary
    }

    /// ALPN: our preference order wins; with no common protocol ALPN is simply not used
    /// (the client then speaks HTTP/1.1), as nginx and HAProxy do, rather than aborting.
    fileprivate func selectALPN(offered: UnsafeBufferPointer<UInt8>) -> (offset: Int, length: Int)? {
        ALPN.select(preferred: alpnPreference, offered: offered)
    }
}

private func alpnSelectCallback(
    ssl: OpaquePointer?,
    out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    outLength: UnsafeMutablePointer<UInt8>?,
    input: UnsafePointer<UInt8>?,
    inputLength: UInt32,
    arg: UnsafeMutableRawPointer?
) -> Int32 {
    guard let arg, let out, let outLength, let input else { return SSL_TLSEXT_ERR_NOACK }
    let context = Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue()
    let offered = UnsafeBufferPointer(start: input, count: Int(inputLength))
    guard let chosen = context.selectALPN(offered: offered) else { return SSL_TLSEXT_ERR_NOACK }
    // OpenSSL requires the answer to point into the client's list (or other memory that outlives the call).
    out.pointee = input + chosen.offset
    outLength.pointee = UInt8(chosen.length)
    return SSL_TLSEXT_ERR_OK
}

private func servernameCallback(ssl: OpaquePointer?, alert: UnsafeMutablePointer<Int32>?, arg: UnsafeMutableRawPointer?) -> Int32 {
    guard let ssl, let arg else { return SSL_TLSEXT_ERR_OK }
    guard let raw = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else {
        return SSL_TLSEXT_ERR_OK  // no SNI: the default certificate
    }
    let context = Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue()
    let chosen = context.certificateContext(forServerName: String(cString: raw))
    if chosen !== context.primary {
        guard SSL_set_SSL_CTX(ssl, chosen.pointer) != nil else {
            alert?.pointee = SSL_AD_INTERNAL_ERROR
            return SSL_TLSEXT_ERR_ALERT_FATAL
        }
    }
    return SSL_TLSEXT_ERR_OK
}
