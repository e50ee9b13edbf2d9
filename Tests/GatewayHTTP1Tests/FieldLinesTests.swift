import GatewayCore
import Testing
@testable import GatewayHTTP1

/// `FieldLines.parseLine` against a byte-by-byte reference, on values built to put every kind of byte at every
/// offset of the 8-byte words the parser skips at once.
@Suite struct FieldLinesTests {
    /// What RFC 9110 allows in a field value: visible ASCII, SP, HTAB and obs-text; leading and trailing SP and
    /// HTAB are not part of it.
    static func reference(_ value: [UInt8]) -> [UInt8]? {
        guard value.allSatisfy(ASCII.isFieldValueChar) else { return nil }
        var v = value[...]
        while let f = v.first, f == 0x20 || f == 0x09 { v = v.dropFirst() }
        while let l = v.last, l == 0x20 || l == 0x09 { v = v.dropLast() }
        return Array(v)
    }

    static func parse(_ value: [UInt8]) -> [UInt8]? {
        let line = Array("X-Field: ".utf8) + value + [0x0D, 0x0A]
        return line.withUnsafeBufferPointer { s -> [UInt8]? in
            do {
                let (name, v, end) = try FieldLines.parseLine(s, 0)
                guard Array(s[name]) == Array("X-Field".utf8), end == line.count - 2 else { return nil }
                return Array(s[v])
            } catch {
                return nil
            }
        }
    }

    @Test func everyByteAtEveryWordOffset() {
        // All bytes but CR (which ends the line where it stands) and LF.
        let special: [UInt8] = Array(0x00...0x0C) + Array(0x0E...0x20) + [0x41, 0x7E, 0x7F, 0x80, 0xC3, 0xFF]
        for length in [1, 7, 8, 9, 15, 16, 17, 24, 33] {
            for position in 0..<length {
                for b in special where b != 0x0A {
                    var value = [UInt8](repeating: UInt8(ascii: "v"), count: length)
                    value[position] = b
                    #expect(FieldLinesTests.parse(value) == FieldLinesTests.reference(value),
                            "byte \(b) at \(position) of \(length)")
                }
            }
        }
    }

    @Test func randomValuesMatchTheReference() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x00, 0x09, 0x1F, 0x20, 0x7F, 0x80, 0xFF] + Array("abcXYZ019-_:;,\"".utf8)
        for _ in 0..<20_000 {
            let n = Int.random(in: 0...40, using: &rng)
            let value = (0..<n).map { _ in
                // Mostly plain bytes, so that long clean runs and the odd bad byte both occur.
                Int.random(in: 0..<10, using: &rng) == 0 ? alphabet.randomElement(using: &rng) ?? 0x61 : 0x61
            }
            #expect(FieldLinesTests.parse(value) == FieldLinesTests.reference(value), "\(value)")
        }
    }
}
