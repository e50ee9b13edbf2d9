private import COpenSSL

/// HMAC-SHA256 with a key prepared once; the one place GatewayAuth touches libcrypto.
///
/// The prepared `EVP_MAC_CTX` is only ever read (duplicated per call), so one key can serve every loop
/// at once. Measured on the dev box (OpenSSL 3.0, 300-byte input): dup of a prepared context 1.56 M/s,
/// one-shot `HMAC()` 0.68 M/s (it re-fetches the digest each call), a fresh `HMAC_CTX` 1.0 M/s.
package final class HMACSHA256Key: @unchecked Sendable {
    /// Bytes in an HMAC-SHA256 tag.
    static let tagLength = 32

    private let prepared: OpaquePointer?

    package init(secret: [UInt8]) {
        prepared = Self.prepare(secret)
    }

    deinit {
        if let prepared { EVP_MAC_CTX_free(prepared) }
    }

    private static func prepare(_ secret: [UInt8]) -> OpaquePointer? {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else {
            ERR_clear_error()
            return nil
        }
        defer { EVP_MAC_free(mac) }
        guard let ctx = EVP_MAC_CTX_new(mac) else {
            ERR_clear_error()
            return nil
        }
        // OSSL_PARAM keeps the name and value pointers, so both must outlive EVP_MAC_init: no implicit bridging.
        let ok: Bool = "digest".withCString { name in
            "SHA256".withCString { digest in
                var params = [
                    OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0),
                    OSSL_PARAM_construct_end(),
                ]
                // A zero-length secret still needs a non-null pointer for EVP_MAC_init to accept it.
                var keyBytes = secret.isEmpty ? [0] : secret
                return keyBytes.withUnsafeMutableBufferPointer { key in
                    params.withUnsafeMutableBufferPointer { p in
                        EVP_MAC_init(ctx, key.baseAddress, secret.count, p.baseAddress) == 1
                    }
                }
            }
        }
        guard ok else {
            ERR_clear_error()
            EVP_MAC_CTX_free(ctx)
            return nil
        }
        return ctx
    }

    /// Writes the tag of `message` into `tag` (32 bytes); false when OpenSSL failed (callers fail closed).
    func authenticate(_ message: UnsafeRawBufferPointer, into tag: UnsafeMutableRawBufferPointer) -> Bool {
        guard let prepared, tag.count >= Self.tagLength, let out = tag.baseAddress,
              let ctx = EVP_MAC_CTX_dup(prepared) else {
            ERR_clear_error()
            return false
        }
        defer { EVP_MAC_CTX_free(ctx) }
        var written = 0
        guard EVP_MAC_update(ctx, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count) == 1,
              EVP_MAC_final(ctx, out.assumingMemoryBound(to: UInt8.self), &written, Self.tagLength) == 1,
              written == Self.tagLength else {
            ERR_clear_error()
            return false
        }
        return true
    }

    /// True when `signature` is exactly the tag of `message`; compared in constant time after a length check.
    func verify(_ message: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer) -> Bool {
        guard signature.count == Self.tagLength else { return false }
        return withUnsafeTemporaryAllocation(byteCount: Self.tagLength, alignment: 8) { tag in
            guard authenticate(message, into: tag) else { return false }
            return CRYPTO_memcmp(tag.baseAddress, signature.baseAddress, Self.tagLength) == 0
        }
    }

    /// The tag of `message` as an array (minting and tests; not the hot path).
    package func tag(of message: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: Self.tagLength)
        let ok = message.withUnsafeBytes { msg in
            out.withUnsafeMutableBytes { authenticate(msg, into: $0) }
        }
        return ok ? out : nil
    }
}
