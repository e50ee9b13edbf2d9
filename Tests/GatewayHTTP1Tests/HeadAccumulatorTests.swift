import Testing
@testable import GatewayHTTP1
import TestSupport

/// The one-pass shortcut for a response head that arrives whole (`HeadAccumulator.wholeCleanHead`): it may only
/// take heads the byte-by-byte scan would accept, and must leave everything else to that scan.
@Suite struct HeadAccumulatorTests {
    /// Byte by byte: the end of the first CRLF CRLF, when the head before it is well formed for the accumulator.
    static func reference(_ b: [UInt8], limit: Int) -> Int? {
        guard b.count >= 4, b[0] != 0x0D, b[0] != 0x0A else { return nil }
        var i = 0
        while i < b.count && i < limit {
            if b[i] == 0x0A { return nil }
            if b[i] == 0x0D {
                guard i + 1 < min(b.count, limit), b[i + 1] == 0x0A else { return nil }
                if i + 3 < min(b.count, limit), b[i + 2] == 0x0D { return b[i + 3] == 0x0A ? i + 4 : nil }
                i += 2
                continue
            }
            i += 1
        }
        return nil
    }

    static func fast(_ b: [UInt8], limit: Int) -> Int? {
        b.withUnsafeBytes { HeadAccumulator.wholeCleanHead($0, limit: limit) }
    }

    /// Random texts from pieces that put CR, LF, CRLF and their near misses at every offset of the 8-byte words.
    @Test func agreesWithTheByteByByteScan() {
        let pieces: [[UInt8]] = [[0x61], [0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67], [0x3A, 0x20], [0x0D, 0x0A],
                                 [0x0D], [0x0A], [0x0D, 0x0A, 0x0D, 0x0A], [0x0A, 0x0D], [0x0D, 0x0D, 0x0A], [0x09]]
        var rng = SplitMix64(seed: 2026)
        var taken = 0
        for _ in 0..<20_000 {
            var b: [UInt8] = []
            for _ in 0..<Int.random(in: 1...24, using: &rng) { b += pieces[Int.random(in: 0..<pieces.count, using: &rng)] }
            let limit = Bool.random(using: &rng) ? Int.max : Int.random(in: 1...max(1, b.count + 2), using: &rng)
            let expected = HeadAccumulatorTests.reference(b, limit: limit)
            #expect(HeadAccumulatorTests.fast(b, limit: limit) == expected, "\(b) limit \(limit)")
            if expected != nil { taken += 1 }
        }
        #expect(taken > 100)
    }

    /// What the gateway's benchmark upstream sends, and the same head with each line end broken in turn.
    @Test func realHeadIsTakenAndEveryBrokenLineEndIsLeft() {
        let text = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 27 Nov 2026 12:23:27 GMT\r\n"
            + "Content-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n"
        let bytes = Array(text.utf8)
        let headLength = bytes.count - 3
        #expect(HeadAccumulatorTests.fast(bytes, limit: .max) == headLength)
        #expect(HeadAccumulatorTests.fast(bytes, limit: headLength) == headLength)
        #expect(HeadAccumulatorTests.fast(bytes, limit: headLength - 1) == nil)
        #expect(HeadAccumulatorTests.fast(Array(bytes[..<(headLength - 1)]), limit: .max) == nil)
        for (i, b) in bytes[..<headLength].enumerated() where b == 0x0D || b == 0x0A {
            var broken = bytes
            broken[i] = 0x58
            #expect(HeadAccumulatorTests.fast(broken, limit: .max) == nil, "byte \(i)")
        }
    }

    /// Fed whole (the shortcut) and in pieces (the scan), the parser gives the same events and errors.
    @Test func wholeAndSplitResponsesAgree() {
        let heads = ["HTTP/1.1 200 OK\r\nA: b\r\n\r\n", "HTTP/1.1 200 OK\r\nA: b\n\r\n\r\n", "HTTP/1.1 200 OK\rA: b\r\n\r\n",
                     "HTTP/1.1 200 OK\r\n\n\r\n", "\nHTTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
        for text in heads {
            let (_, mismatches) = responseOutcome(text)
            #expect(mismatches.isEmpty, "\(text.debugDescription): \(mismatches)")
        }
    }
}

/// A field line that crosses the size limit and holds a bare LF past it: the whole input and the same bytes one at a
/// time give the same error (431: the limit comes first). The memchr run checked the LF before the limit, so a whole
/// read gave 400 (found by fuzz-chunked, Tests/Fuzz/chunked/corpus/crash-bare-lf-past-the-limit).
@Suite struct HeadAccumulatorLimitTests {
    static func feed(_ bytes: [UInt8], pieceSize: Int, limit: Int) -> HTTP1ParseError? {
        var acc = HeadAccumulator(mode: .trailers)
        var start = 0
        while start < bytes.count {
            let end = min(start + pieceSize, bytes.count)
            do {
                _ = try bytes[start..<end].withUnsafeBytes { try acc.feed($0, limit: limit) }
            } catch {
                return error as? HTTP1ParseError ?? .badRequest("not an HTTP1ParseError")
            }
            start = end
        }
        return nil
    }

    @Test func aBareLFPastTheLimitIsTheLimitWhateverTheSplit() {
        let text = Array("X-A: ".utf8) + [UInt8](repeating: 0x61, count: 30) + [0x0A] + Array("b\r\n\r\n".utf8)
        #expect(Self.feed(text, pieceSize: text.count, limit: 20) == .headersTooLarge)
        #expect(Self.feed(text, pieceSize: 1, limit: 20) == .headersTooLarge)
        // Within the limit, the bare LF is the error either way.
        #expect(Self.feed(text, pieceSize: text.count, limit: 100) == .badRequest("bare LF in head"))
        #expect(Self.feed(text, pieceSize: 1, limit: 100) == .badRequest("bare LF in head"))
    }
}
