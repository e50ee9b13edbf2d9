/// Tests over eight input bytes at once, loaded as one little-endian word (byte `i` in bits `8i..<8i+8`).
enum ByteWords {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Zero exactly when no byte of `x` equals `byte`. Otherwise the high bit of the lowest such byte is set; bytes
    /// above it may be flagged falsely (a borrow), so only the lowest flag locates a match.
    @inline(__always)
    static func matching(_ x: UInt64, _ byte: UInt8) -> UInt64 {
        let y = x ^ (UInt64(byte) &* ones)
        return (y &- ones) & ~y & highs
    }

    /// Zero exactly when no byte of `x` is below `bound` (at most 0x80); flags like `matching`.
    @inline(__always)
    static func below(_ x: UInt64, _ bound: UInt8) -> UInt64 {
        (x &- UInt64(bound) &* ones) & ~x & highs
    }
}
