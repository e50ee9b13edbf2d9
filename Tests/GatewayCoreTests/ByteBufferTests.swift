import GatewayCore
import Testing

@Suite("ByteBuffer")
struct ByteBufferTests {
    static func pattern(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) } }

    @Test("write appends; consume advances the read index")
    func writeAndConsume() {
        var b = ByteBuffer(capacity: 16)
        #expect(b.isEmpty)
        b.write("hello ")
        b.write([0x77, 0x6F])
        b.write("rld")
        #expect(b.readableBytes == 11)
        #expect(Array(b.readableSlice) == Array("hello world".utf8))
        b.consume(6)
        #expect(b.readerIndex == 6)
        #expect(b.readableBytes == 5)
        #expect(Array(b.readableSlice) == Array("world".utf8))
        let seen = b.withReadableBytes { Array($0) }
        #expect(seen == Array("world".utf8))
    }

    @Test("write from a raw buffer pointer")
    func writeRaw() {
        var b = ByteBuffer([1, 2])
        let more: [UInt8] = [3, 4, 5]
        more.withUnsafeBytes { b.write($0) }
        #expect(Array(b.readableSlice) == [1, 2, 3, 4, 5])
    }

    @Test("consuming everything resets to an empty buffer at index 0")
    func consumeAll() {
        var b = ByteBuffer(Array("abc".utf8))
        b.consume(2)
        b.consume(10)
        #expect(b.isEmpty)
        #expect(b.readableBytes == 0)
        #expect(b.readerIndex == 0)
        #expect(b.bytes.isEmpty)
        b.write("x")
        #expect(Array(b.readableSlice) == [UInt8(ascii: "x")])
    }

    @Test("compaction after a large consumed prefix keeps the unread content")
    func compaction() {
        let data = Self.pattern(100 * 1024)
        var b = ByteBuffer()
        b.write(data)
        b.consume(70 * 1024)
        // Over 64 KiB consumed and more than half the storage: the prefix is dropped.
        #expect(b.readerIndex == 0)
        #expect(b.bytes.count == 30 * 1024)
        #expect(Array(b.readableSlice) == Array(data[(70 * 1024)...]))
        b.write([0xAA])
        #expect(b.readableBytes == 30 * 1024 + 1)
        #expect(b.readableSlice.last == 0xAA)
    }

    @Test("no compaction while the consumed prefix is under half the storage")
    func noEarlyCompaction() {
        let data = Self.pattern(200 * 1024)
        var b = ByteBuffer(data)
        b.consume(70 * 1024)
        #expect(b.readerIndex == 70 * 1024)
        #expect(Array(b.readableSlice) == Array(data[(70 * 1024)...]))
        b.consume(40 * 1024)
        #expect(b.readerIndex == 0)
        #expect(Array(b.readableSlice) == Array(data[(110 * 1024)...]))
    }

    @Test("interleaved writes and consumes deliver every byte once, in order")
    func streaming() {
        let data = Self.pattern(300 * 1024)
        var b = ByteBuffer()
        var out: [UInt8] = []
        var offset = 0
        var step = 1
        while offset < data.count || !b.isEmpty {
            let n = min(step * 997, data.count - offset)
            b.write(data[offset..<(offset + n)])
            offset += n
            let take = min(b.readableBytes, step * 733 + 1)
            out.append(contentsOf: b.readableSlice.prefix(take))
            b.consume(take)
            step += 1
        }
        #expect(out == data)
    }

    @Test("clear empties the buffer")
    func clear() {
        var b = ByteBuffer(Array("abc".utf8))
        b.consume(1)
        b.clear()
        #expect(b.isEmpty)
        #expect(b.readerIndex == 0)
    }
}
