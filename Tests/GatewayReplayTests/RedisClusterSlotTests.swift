@testable import GatewayReplay
import Testing

/// Expected values come from the cluster spec (CRC16 check value 0x31C3) and from `CLUSTER KEYSLOT` on Redis 7.0.
struct RedisClusterSlotTests {
    @Test func crc16MatchesTheXmodemCheckValue() {
        #expect(RedisClusterSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(RedisClusterSlot.crc16([]) == 0)
        #expect(RedisClusterSlot.slot(forKey: "123456789") == 0x31C3 % 16384)
    }

    @Test func knownSlots() {
        // `redis-cli cluster keyslot` on a 7.0 cluster: foo 12182, bar 5061, hello 866.
        #expect(RedisClusterSlot.slot(forKey: "foo") == 12182)
        #expect(RedisClusterSlot.slot(forKey: "bar") == 5061)
        #expect(RedisClusterSlot.slot(forKey: "hello") == 866)
        #expect(RedisClusterSlot.slot(forKey: "") == 0)
    }

    @Test func hashTagPutsRelatedKeysTogether() {
        let following = RedisClusterSlot.slot(forKey: "{user1000}.following")
        #expect(following == RedisClusterSlot.slot(forKey: "{user1000}.followers"))
        #expect(following == RedisClusterSlot.slot(forKey: "user1000"))
        #expect(following == 3443)
    }

    @Test func emptyTagHashesTheWholeKey() {
        // The first `{` is followed at once by `}`: no tag, even though `{bar}` follows.
        #expect(RedisClusterSlot.slot(forKey: "foo{}{bar}") == 8363)
        #expect(RedisClusterSlot.slot(forKey: "foo{}{bar}") != RedisClusterSlot.slot(forKey: "bar"))
        #expect(RedisClusterSlot.slot(forKey: "{}") == Int(RedisClusterSlot.crc16(Array("{}".utf8))) % 16384)
    }

    @Test func tagRunsFromFirstOpenToFirstCloseAfterIt() {
        #expect(RedisClusterSlot.slot(forKey: "foo{{bar}}zap") == RedisClusterSlot.slot(forKey: "{bar"))
        #expect(RedisClusterSlot.slot(forKey: "a{b}c{d}") == RedisClusterSlot.slot(forKey: "b"))
        // An unclosed `{` is not a tag.
        #expect(RedisClusterSlot.slot(forKey: "{abc") == Int(RedisClusterSlot.crc16(Array("{abc".utf8))) % 16384)
        #expect(RedisClusterSlot.slot(forKey: "ab}c{") == Int(RedisClusterSlot.crc16(Array("ab}c{".utf8))) % 16384)
    }

    @Test func bytesThatAreNotUTF8() {
        let key: [UInt8] = [0xFF, 0x7B, 0x00, 0x80, 0x7D, 0xFE]  // \xff{\0\x80}\xfe: tag is [0x00, 0x80]
        #expect(RedisClusterSlot.slot(forKey: key) == RedisClusterSlot.slot(forKey: [0x00, 0x80]))
    }

    @Test func slotsStayInRange() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let key = (0..<Int.random(in: 0...24, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let slot = RedisClusterSlot.slot(forKey: key)
            #expect(slot >= 0 && slot < RedisClusterSlot.count)
        }
    }
}
