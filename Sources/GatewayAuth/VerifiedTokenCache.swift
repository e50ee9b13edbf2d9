private import COpenSSL

/// Tokens one loop has already verified, so a client that sends the same token again (an extension reuses its
/// session token for up to its whole lifetime) skips the HMAC and the claim parsing. Envoy's JWT filter keeps the
/// same kind of cache.
///
/// Only accepted tokens are kept, keyed by the exact `Authorization` value and compared in constant time; an entry
/// answers only until `exp + clock_skew`, the one time rule an accepted token can still fail later (nbf, iat and
/// lifetime only get easier as time passes). The cache belongs to one config: a reload starts a new one, so changed
/// secrets, apps or shop lists never meet an old verdict. Single-use routes still check `jti` in the replay store.
/// Not thread-safe: one per loop.
public final class VerifiedTokenCache {
    private struct Entry {
        var key: [UInt8]
        var verdict: TokenVerdict
        /// Unix seconds from which the entry no longer answers (`exp + skew`).
        var validUntil: Int64
    }

    /// Longer values are verified every time (real session tokens are well under this).
    public static let maxValueBytes = 2048

    private var slots: [Entry?]
    private let mask: Int
    public private(set) var count = 0

    /// `slotCount` is rounded up to a power of two; one entry per slot, a newer token replaces an older one.
    public init(slotCount: Int = 512) {
        var n = 1
        while n < max(1, slotCount) { n <<= 1 }
        slots = Array(repeating: nil, count: n)
        mask = n - 1
    }

    /// The verdict stored for exactly these bytes, if it is still within its time.
    public func verdict(for value: UnsafeBufferPointer<UInt8>, now: Int64) -> TokenVerdict? {
        guard value.count <= Self.maxValueBytes, count > 0 else { return nil }
        let i = slot(value)
        guard let e = slots[i] else { return nil }
        guard e.key.count == value.count,
              e.key.withUnsafeBufferPointer({ CRYPTO_memcmp($0.baseAddress, value.baseAddress, value.count) }) == 0 else {
            return nil
        }
        guard now < e.validUntil else {
            slots[i] = nil
            count -= 1
            return nil
        }
        return e.verdict
    }

    /// Remembers an accepted token until `validUntil` (Unix seconds, exclusive).
    public func store(_ verdict: TokenVerdict, for value: UnsafeBufferPointer<UInt8>, validUntil: Int64) {
        guard value.count <= Self.maxValueBytes, !value.isEmpty else { return }
        let i = slot(value)
        if slots[i] == nil { count += 1 }
        slots[i] = Entry(key: Array(value), verdict: verdict, validUntil: validUntil)
    }

    private func slot(_ value: UnsafeBufferPointer<UInt8>) -> Int {
        // Seeded per process: nobody outside can aim tokens at one slot to keep evicting another client's entry.
        var h = Hasher()
        h.combine(bytes: UnsafeRawBufferPointer(value))
        return h.finalize() & mask
    }
}
