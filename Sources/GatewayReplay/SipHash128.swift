/// SipHash-2-4 with a 128-bit tag: a keyed hash whose outputs an attacker cannot steer without the key.
///
/// The replay table stores only this tag per token id, so it must be unpredictable (no crafted probe
/// chains, no crafted collisions) and wide enough that two live ids colliding never happens in practice.
struct SipHash128 {
    private var v0: UInt64
    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64
    /// Bytes not yet folded in, little-endian in the low bytes.
    private var tail: UInt64 = 0
    private var tailCount: Int = 0
    private var length: UInt64 = 0

    init(k0: UInt64, k1: UInt64) {
        v0 = k0 ^ 0x736f_6d65_7073_6575
        v1 = k1 ^ 0x646f_7261_6e64_6f6d ^ 0xee
        v2 = k0 ^ 0x6c79_6765_6e65_7261
        v3 = k1 ^ 0x7465_6462_7974_6573
    }

    private mutating func round() {
        v0 &+= v1; v1 = v1.rotl(13); v1 ^= v0; v0 = v0.rotl(32)
        v2 &+= v3; v3 = v3.rotl(16); v3 ^= v2
        v0 &+= v3; v3 = v3.rotl(21); v3 ^= v0
        v2 &+= v1; v1 = v1.rotl(17); v1 ^= v2; v2 = v2.rotl(32)
    }

    private mutating func compress(_ m: UInt64) {
        v3 ^= m
        round(); round()
        v0 ^= m
    }

    /// Feeds one byte.
    mutating func write(_ byte: UInt8) {
        tail |= UInt64(byte) << (UInt64(tailCount) &* 8)
        tailCount += 1
        length &+= 1
        if tailCount == 8 {
            compress(tail)
            tail = 0
            tailCount = 0
        }
    }

    /// Feeds a run of bytes, eight at a time when aligned with the block boundary.
    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        while i < bytes.count, tailCount != 0 {
            write(bytes[i]); i += 1
        }
        while bytes.count - i >= 8 {
            compress(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            length &+= 8
            i += 8
        }
        while i < bytes.count {
            write(bytes[i]); i += 1
        }
    }

    /// Feeds the UTF-8 bytes of a string without copying when it is stored contiguously.
    mutating func write(_ string: String) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { write(UnsafeRawBufferPointer($0)) }
        if done == nil {
            for byte in string.utf8 { write(byte) }
        }
    }

    /// Feeds a 64-bit value as eight little-endian bytes.
    mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { write($0) }
    }

    /// The 128-bit tag as two words (the reference byte order is `lo` then `hi`, each little-endian).
    consuming func finalize() -> (lo: UInt64, hi: UInt64) {
        let b = (length << 56) | tail
        compress(b)
        v2 ^= 0xee
        round(); round(); round(); round()
        let lo = v0 ^ v1 ^ v2 ^ v3
        v1 ^= 0xdd
        round(); round(); round(); round()
        let hi = v0 ^ v1 ^ v2 ^ v3
        return (lo, hi)
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotl(_ n: UInt64) -> UInt64 { (self << n) | (self >> (64 &- n)) }
}
