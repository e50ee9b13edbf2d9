#if canImport(Glibc)
import Glibc
#endif
private import COpenSSL

/// Tokens one loop has already verified, so a client that sends the same token again (an extension reuses its
/// session token for up to its whole lifetime) skips the HMAC and the claim parsing. Envoy's JWT filter keeps the
/// same kind of cache.
///
/// Only accepted tokens are kept, keyed by the exact `Authorization` value (its trailing MAC compared in constant time); an entry
/// answers only until `exp + clock_skew`, the one time rule an accepted token can still fail later (nbf, iat and
/// lifetime only get easier as time passes). The cache belongs to one config: a reload starts a new one, so changed
/// secrets, apps or shop lists never meet an old verdict. A hit is only a verdict: the gate still applies each route's
/// rules (`apps`, `require_customer`) to it, and single-use routes still check `jti` in the replay store.
/// Not thread-safe: one per loop.
public final class VerifiedTokenCache {
    /// Longer values are verified every time (real session tokens are well under this).
    public static let maxValueBytes = 2048
    /// How many trailing bytes (the token's HMAC) are compared in constant time before the whole value.
    static let secretTail = 43

    // Parallel arrays, one element per slot: reading a slot in place copies nothing (an array of optional
    // structs had each lookup copy and release the entry).
    private var keys: [[UInt8]]
    private var verdicts: [TokenVerdict?]
    /// Unix seconds from which the slot no longer answers (`exp + skew`); 0 for an empty slot.
    private var validUntil: [Int64]
    private let mask: Int
    /// Bits of the slot index (log2 of the slot count).
    private let bits: Int
    /// Per-cache random keys of the slot hash.
    private let key0 = UInt64.random(in: .min ... .max)
    private let key1 = UInt64.random(in: .min ... .max)
    public private(set) var count = 0

    /// `slotCount` is rounded up to a power of two; one entry per slot, a newer token replaces an older one.
    public init(slotCount: Int = 512) {
        var n = 1
        while n < max(1, slotCount) { n <<= 1 }
        keys = Array(repeating: [], count: n)
        verdicts = Array(repeating: nil, count: n)
        validUntil = Array(repeating: 0, count: n)
        mask = n - 1
        bits = n.trailingZeroBitCount
    }

    /// The verdict stored for exactly these bytes, if it is still within its time.
    public func verdict(for value: UnsafeBufferPointer<UInt8>, now: Int64) -> TokenVerdict? {
        guard value.count <= Self.maxValueBytes, count > 0, let base = value.baseAddress else { return nil }
        let i = slot(value)
        guard validUntil[i] != 0 else { return nil }
        let same = keys[i].withUnsafeBufferPointer { key -> Bool in
            guard key.count == value.count, let k = key.baseAddress else { return false }
            // The tail is the token's MAC: compared in constant time, so timing never tells how much of a cached
            // token's MAC a guess got right. The rest is only compared once the MAC matched (the caller holds it).
            let tail = min(Self.secretTail, value.count)
            let at = value.count - tail
            guard CRYPTO_memcmp(k + at, base + at, tail) == 0 else { return false }
            return memcmp(k, base, at) == 0
        }
        guard same else { return nil }
        guard now < validUntil[i] else {
            clear(i)
            return nil
        }
        return verdicts[i]
    }

    /// Remembers an accepted token until `validUntil` (Unix seconds, exclusive).
    public func store(_ verdict: TokenVerdict, for value: UnsafeBufferPointer<UInt8>, validUntil until: Int64) {
        guard value.count <= Self.maxValueBytes, !value.isEmpty, until > 0 else { return }
        let i = slot(value)
        if validUntil[i] == 0 { count += 1 }
        keys[i] = Array(value)
        verdicts[i] = verdict
        validUntil[i] = until
    }

    private func clear(_ i: Int) {
        keys[i] = []
        verdicts[i] = nil
        validUntil[i] = 0
        count -= 1
    }

    private func slot(_ value: UnsafeBufferPointer<UInt8>) -> Int {
        // Keyed per cache with random values: nobody outside can aim tokens at one slot to keep evicting another
        // client's entry (and only accepted tokens are stored at all, which takes the app's secret to make).
        // Only the last 16 bytes are mixed: a token ends in its HMAC, different for every token. Two multiply-xor
        // rounds instead of `Hasher`: its seeding, SipHash rounds and finalization, each an out-of-line call,
        // were a third of the cache lookup.
        guard bits > 0 else { return 0 }
        var a: UInt64 = 0
        var b: UInt64 = 0
        if let base = value.baseAddress, value.count >= 16 {
            a = UnsafeRawPointer(base + value.count - 16).loadUnaligned(as: UInt64.self)
            b = UnsafeRawPointer(base + value.count - 8).loadUnaligned(as: UInt64.self)
        } else {
            for (i, byte) in value.enumerated() { a = a &* 31 &+ UInt64(byte) &+ UInt64(i) }
        }
        var h = (a ^ key0) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        h = (h ^ b ^ key1) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h >> UInt64(64 - bits)) & mask
    }
}
