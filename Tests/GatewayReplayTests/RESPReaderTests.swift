@testable import GatewayReplay
import Testing
import TestSupport

/// hiredis's reader and formatter behind the Swift types: replies whole, byte by byte and at random splits.
@Suite struct RESPReaderTests {
    static let stream = Array("+OK\r\n$-1\r\n:42\r\n-MOVED 3999 127.0.0.1:6381\r\n$5\r\nab\r\nc\r\n*3\r\n$3\r\nfoo\r\n*1\r\n:1\r\n*-1\r\n".utf8)
    static let expected: [RedisReply] = [
        .status("OK"), .null, .integer(42), .error("MOVED 3999 127.0.0.1:6381"), .bulk(Array("ab\r\nc".utf8)),
        .array([.bulk(Array("foo".utf8)), .array([.integer(1)]), .null]),
    ]

    func parse(_ chunks: [[UInt8]]) throws -> [RedisReply] {
        guard let reader = RESPReader() else { return [] }
        var out: [RedisReply] = []
        for c in chunks {
            try c.withUnsafeBytes { try reader.feed($0) }
            while let r = try reader.next() { out.append(r) }
        }
        return out
    }

    @Test func wholeAndByteByByte() throws {
        #expect(try parse([Self.stream]) == Self.expected)
        #expect(try parse(Self.stream.map { [$0] }) == Self.expected)
    }

    @Test func randomSplits() throws {
        var rng = SplitMix64(seed: 17)
        for _ in 0..<200 {
            var chunks: [[UInt8]] = []
            var i = 0
            while i < Self.stream.count {
                let n = min(Self.stream.count - i, 1 + Int(rng.next() % 9))
                chunks.append(Array(Self.stream[i..<(i + n)]))
                i += n
            }
            #expect(try parse(chunks) == Self.expected)
        }
    }

    @Test func bytesThatAreNotRESPAreAnError() {
        #expect(throws: RESPProtocolError.self) { try parse([Array("HTTP/1.1 400 Bad Request\r\n".utf8)]) }
    }

    @Test func commandsAreFormattedWithRawBytes() {
        let bytes = RESPCommand.encode([Array("SET".utf8), Array("k\r\n é".utf8), [0]])
        #expect(String(decoding: bytes, as: UTF8.self) == "*3\r\n$3\r\nSET\r\n$6\r\nk\r\n é\r\n$1\r\n\u{0}\r\n")
    }
}
