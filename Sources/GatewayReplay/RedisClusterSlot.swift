/// Which of Redis Cluster's hash slots a key lives in: CRC16/XMODEM of the key (or of its hash tag) mod 16384.
public enum RedisClusterSlot {
    /// The number of hash slots in every Redis Cluster.
    public static let count = 16384

    /// The slot of `key`, following the hash-tag rule so `{user1}.a` and `{user1}.b` land together.
    public static func slot(forKey key: [UInt8]) -> Int {
        Int(crc16(hashedPart(of: key)) & 0x3FFF)
    }

    /// The slot of a UTF-8 key.
    public static func slot(forKey key: String) -> Int {
        slot(forKey: Array(key.utf8))
    }

    /// The bytes that are hashed: between the first `{` and the first `}` after it when that is non-empty,
    /// otherwise the whole key (so `foo{}{bar}` hashes whole and `foo{{bar}}` hashes `{bar`).
    static func hashedPart(of key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
              close > open + 1
        else { return key[...] }
        return key[(open + 1)..<close]
    }

    /// CRC16/XMODEM (poly 0x1021, init 0, no reflection), the checksum the cluster spec names.
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    /// One entry per leading byte, so each key byte costs one lookup instead of eight shifts.
    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
