import Foundation
import Synchronization

/// HTTP/2 frames written by hand, for what a well-behaved nghttp2 client refuses to send (a stream over the peer's
/// limit, a stream after GOAWAY).
enum H2RawFrame {
    /// A HEADERS frame with END_HEADERS; each field is an HPACK literal without indexing and without Huffman, so it
    /// decodes the same whatever the server's dynamic table holds and leaves that table unchanged.
    static func headers(streamID: Int32, fields: [(String, String)], endStream: Bool) -> [UInt8] {
        var block: [UInt8] = []
        for (name, value) in fields {
            block.append(0x00)
            block += integer(name.utf8.count, prefixBits: 7)
            block += Array(name.utf8)
            block += integer(value.utf8.count, prefixBits: 7)
            block += Array(value.utf8)
        }
        let flags: UInt8 = 0x4 | (endStream ? 0x1 : 0)
        let n = block.count
        let id = UInt32(bitPattern: streamID) & 0x7fff_ffff
        return [UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n), 0x1, flags,
                UInt8(truncatingIfNeeded: id >> 24), UInt8(truncatingIfNeeded: id >> 16), UInt8(truncatingIfNeeded: id >> 8),
                UInt8(truncatingIfNeeded: id)] + block
    }

    /// RFC 7541 5.1 integer with an N-bit prefix (the H bit, 0 here, sits above it).
    static func integer(_ value: Int, prefixBits: Int) -> [UInt8] {
        let max = (1 << prefixBits) - 1
        if value < max { return [UInt8(value)] }
        var out = [UInt8(max)]
        var v = value - max
        while v >= 128 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }
}

/// A gate upstream handler threads wait at until the test opens it (or ~20 s pass, so a failed test cannot hang).
final class TestGate: Sendable {
    private let opened = Atomic<Bool>(false)

    func open() { opened.store(true, ordering: .relaxed) }

    func wait() {
        for _ in 0..<10_000 where !opened.load(ordering: .relaxed) { usleep(2_000) }
    }
}

/// Request pseudo-headers for a GET over h2c.
func h2Get(_ path: String, _ extra: [(String, String)] = []) -> [(String, String)] {
    [(":method", "GET"), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", path)] + extra
}
