@testable import GatewayCore
import Testing

@Suite("HTTPHeaders")
struct HTTPHeadersTests {
    /// Fields indexed into raw head bytes, the way the HTTP/1.1 parser builds them.
    static func indexed() -> HTTPHeaders {
        // "Host: a\r\n" holds name 0..<4, value 6..<7; "X-Y: bc\r\n" holds name 9..<12, value 14..<16.
        var h = HTTPHeaders(storage: Array("Host: a\r\nX-Y: bc\r\n".utf8))
        h.appendIndexed(name: 0..<4, value: 6..<7)
        h.appendIndexed(name: 9..<12, value: 14..<16)
        return h
    }

    @Test("indexed fields read back from the adopted storage")
    func indexedFields() {
        let h = Self.indexed()
        #expect(h.count == 2)
        #expect(!h.isEmpty)
        #expect(h.name(0) == "Host")
        #expect(h.value(0) == "a")
        #expect(h.name(1) == "X-Y")
        #expect(h.value(1) == "bc")
        #expect(Array(h.nameBytes(1)) == Array("X-Y".utf8))
        #expect(h.valueRange(1) == 14..<16)
        #expect(h.pairs.map { "\($0.name)=\($0.value)" } == ["Host=a", "X-Y=bc"])
    }

    @Test("append copies into storage after the indexed bytes, keeping order")
    func appendKeepsOrder() {
        var h = Self.indexed()
        h.append(name: "Via", value: "1.1 gw")
        h.append(nameBytes: Array("X-Raw".utf8), valueBytes: [0x80, 0x41])
        #expect(h.count == 4)
        #expect(h.pairs.map(\.name) == ["Host", "X-Y", "Via", "X-Raw"])
        #expect(h.value(2) == "1.1 gw")
        #expect(Array(h.valueBytes(3)) == [0x80, 0x41])
        #expect(h.nameRange(2).lowerBound == 18)
    }

    @Test("lookups ignore ASCII case")
    func caseInsensitiveLookup() {
        var h = HTTPHeaders([("Content-Type", "text/plain"), ("x-multi", "1"), ("X-MULTI", "2")])
        #expect(h.first(named: "content-type") == "text/plain")
        #expect(h.first(named: "CONTENT-TYPE") == "text/plain")
        #expect(h.contains(named: "X-Multi"))
        #expect(!h.contains(named: "X-Mult"))
        #expect(!h.contains(named: "X-Multii"))
        #expect(h.firstIndex(named: "x-MULTI") == 1)
        #expect(h.all(named: "X-Multi") == ["1", "2"])
        #expect(h.all(named: "absent") == [])
        #expect(h.first(named: "absent") == nil)
        #expect(h.nameEquals(0, "cOnTeNt-TyPe"))
        #expect(!h.nameEquals(0, "Content-Typ"))
        h.append(name: "Empty", value: "")
        #expect(h.first(named: "empty") == "")
    }

    @Test("removeAll(named:) removes every spelling and reports the count")
    func removeAllNamed() {
        var h = HTTPHeaders([("A", "1"), ("x-id", "2"), ("B", "3"), ("X-ID", "4"), ("X-Id", "5")])
        #expect(h.removeAll(named: "X-Id") == 3)
        #expect(h.pairs.map(\.name) == ["A", "B"])
        #expect(h.removeAll(named: "X-Id") == 0)
        #expect(h.count == 2)
    }

    @Test("removeAll(where:) and remove(at:)")
    func removeWhere() {
        var h = HTTPHeaders([("A", "1"), ("B", "2"), ("C", "3"), ("D", "4")])
        h.removeAll { headers, i in headers.value(i) == "2" || headers.value(i) == "4" }
        #expect(h.pairs.map(\.name) == ["A", "C"])
        h.remove(at: 0)
        #expect(h.pairs.map(\.name) == ["C"])
    }

    @Test("replace drops every old field and appends one at the end")
    func replace() {
        var h = HTTPHeaders([("x-forwarded-for", "1.1.1.1"), ("Host", "h"), ("X-Forwarded-For", "2.2.2.2")])
        h.replace(name: "X-Forwarded-For", value: "9.9.9.9")
        #expect(h.pairs.map { "\($0.name): \($0.value)" } == ["Host: h", "X-Forwarded-For: 9.9.9.9"])
        h.replace(name: "New", value: "v")
        #expect(h.count == 3)
        #expect(h.name(2) == "New")
    }

    @Test("valueEquals ignores ASCII case and checks length")
    func valueEquals() {
        let h = HTTPHeaders([("Connection", "Keep-Alive"), ("Upgrade", "websocket")])
        #expect(h.valueEquals(0, "keep-alive"))
        #expect(h.valueEquals(0, "KEEP-ALIVE"))
        #expect(!h.valueEquals(0, "keep-alive "))
        #expect(!h.valueEquals(0, "keep-aliv"))
        #expect(h.valueEquals(1, "WebSocket"))
        #expect(!h.valueEquals(1, "h2c"))
    }

    @Test("serialize writes `Name: value CRLF` per field, original case, nothing else")
    func serialize() {
        var h = Self.indexed()
        h.append(name: "Content-Length", value: "0")
        var out = Array("prefix|".utf8)
        h.serialize(into: &out)
        #expect(out == Array("prefix|Host: a\r\nX-Y: bc\r\nContent-Length: 0\r\n".utf8))
        var empty: [UInt8] = []
        HTTPHeaders().serialize(into: &empty)
        #expect(empty.isEmpty)
        // A field with an empty value (allowed) and, defensively, one with no bytes at all over empty storage.
        var blank = HTTPHeaders()
        blank.append(nameBytes: [UInt8](), valueBytes: [UInt8]())
        var blankOut = Array("x".utf8)
        blank.serialize(into: &blankOut)
        #expect(blankOut == Array("x: \r\n".utf8))
        let emptyValue = HTTPHeaders([("X-Empty", ""), ("B", "2")])
        var emptyValueOut: [UInt8] = []
        emptyValue.serialize(into: &emptyValueOut)
        #expect(emptyValueOut == Array("X-Empty: \r\nB: 2\r\n".utf8))
    }

    @Test("serialize skips removed fields")
    func serializeAfterRemoval() {
        var h = HTTPHeaders([("A", "1"), ("Secret", "x"), ("B", "2")])
        h.removeAll(named: "secret")
        var out: [UInt8] = []
        h.serialize(into: &out)
        #expect(out == Array("A: 1\r\nB: 2\r\n".utf8))
    }

    @Test("compacted keeps the live fields and only their bytes")
    func compacted() {
        var h = Self.indexed()
        h.append(name: "Drop", value: "me")
        h.append(name: "Keep", value: "yes")
        h.removeAll(named: "drop")
        let c = h.compacted()
        #expect(c.pairs.map { "\($0.name)=\($0.value)" } == ["Host=a", "X-Y=bc", "Keep=yes"])
        #expect(c.storage == Array("HostaX-YbcKeepyes".utf8))
        var a: [UInt8] = []
        var b: [UInt8] = []
        h.serialize(into: &a)
        c.serialize(into: &b)
        #expect(a == b)
    }

    @Test("Bytes.copy copies exactly count bytes for every size up to 80, touching nothing around them")
    func smallCopies() {
        var rng = SystemRandomNumberGenerator()
        for n in 0...80 {
            let src = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var dst = [UInt8](repeating: 0xEE, count: n + 16)
            src.withUnsafeBytes { s in
                dst.withUnsafeMutableBytes { d in
                    Bytes.copy(d.baseAddress! + 8, s.baseAddress ?? UnsafeRawPointer(d.baseAddress!), count: n)
                }
            }
            #expect(Array(dst[8..<(8 + n)]) == src, "size \(n)")
            #expect(dst[0..<8].allSatisfy { $0 == 0xEE } && dst[(8 + n)...].allSatisfy { $0 == 0xEE }, "size \(n)")
        }
    }

    @Test("lowerWord lower-cases each byte exactly as ASCII.lower does, every byte value at every position")
    func lowerWordIsBytewiseLower() {
        for b in UInt8.min...UInt8.max {
            for position in 0..<8 {
                // Neighbours that would carry into or borrow from the byte under test if the lanes leaked.
                for fill: UInt8 in [0x00, 0x5A, 0x7F, 0x80, 0xFF] {
                    var bytes = [UInt8](repeating: fill, count: 8)
                    bytes[position] = b
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let lowered = withUnsafeBytes(of: ASCII.lowerWord(word)) { Array($0) }
                    #expect(lowered == bytes.map(ASCII.lower), "byte \(b) at \(position) among \(fill)")
                }
            }
        }
    }

    @Test("equalsLower agrees with a byte-by-byte comparison for every length, one byte changed anywhere")
    func equalsLowerWordwise() {
        let literals: [StaticString] = ["te", "host", "upgrade", "keep-alive", "connection", "x-request-id",
                                        "content-length", "proxy-connection", "transfer-encoding",
                                        "access-control-request-method"]
        for literal in literals {
            let lower = literal.withUTF8Buffer { Array($0) }
            let upper = lower.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
            for text in [lower, upper] {
                let padded = [UInt8](repeating: 0x41, count: 3) + text + [0x3A]
                let r = 3..<(3 + text.count)
                padded.withUnsafeBufferPointer { #expect(ASCII.equalsLower($0, r, literal), "\(literal)") }
                for i in 0..<text.count {
                    for b: UInt8 in [0x00, 0x0D, 0x2D, 0x40, 0x5B, 0x60, 0x7B, 0xC1, text[i] ^ 0x20, text[i] &+ 1] {
                        var changed = padded
                        changed[3 + i] = b
                        let expected = zip(changed[r], lower).allSatisfy { ASCII.lower($0) == $1 }
                        changed.withUnsafeBufferPointer {
                            #expect(ASCII.equalsLower($0, r, literal) == expected, "\(literal) byte \(i) = \(b)")
                        }
                    }
                }
            }
        }
    }

    @Test("isTokenChar accepts exactly the RFC 9110 tchar bytes, for all 256 byte values")
    func tokenCharsExactly() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        for b in UInt8.min...UInt8.max {
            #expect(ASCII.isTokenChar(b) == tchar.contains(b), "byte \(b)")
        }
    }

    @Test("ASCII helpers: lower, token and field-value bytes")
    func asciiHelpers() {
        #expect(ASCII.lower(UInt8(ascii: "A")) == UInt8(ascii: "a"))
        #expect(ASCII.lower(UInt8(ascii: "z")) == UInt8(ascii: "z"))
        #expect(ASCII.lower(UInt8(ascii: "[")) == UInt8(ascii: "["))
        #expect(ASCII.isTokenChar(UInt8(ascii: "!")))
        #expect(!ASCII.isTokenChar(UInt8(ascii: ":")))
        #expect(!ASCII.isTokenChar(UInt8(ascii: " ")))
        #expect(ASCII.isFieldValueChar(0x09))
        #expect(ASCII.isFieldValueChar(0x80))
        #expect(!ASCII.isFieldValueChar(0x00))
        #expect(!ASCII.isFieldValueChar(0x0A))
        #expect(!ASCII.isFieldValueChar(0x0D))
        let name = Array("X-Request-ID".utf8)
        name.withUnsafeBufferPointer { n in
            #expect(ASCII.equalsIgnoringCase(n, "x-request-id"))
            #expect(!ASCII.equalsIgnoringCase(n, "x-request-i"))
            #expect(!ASCII.equalsIgnoringCase(n, "x-request-ie"))
        }
        var literal = Array("a".utf8)
        ASCII.append("bc\r\n", to: &literal)
        #expect(literal == Array("abc\r\n".utf8))
        var out: [UInt8] = []
        for (v, width) in [(0, 1), (7, 3), (1234, 2), (Int64.max, 1), (-5, 2), (1, 40)] as [(Int64, Int)] {
            ASCII.appendDecimal(v, minimumDigits: width, to: &out)
            out.append(UInt8(ascii: " "))
        }
        // Padding stops at 20 digits, the most an Int64 needs.
        #expect(String(decoding: out, as: UTF8.self)
            == "0 007 1234 9223372036854775807 00 " + String(repeating: "0", count: 19) + "1 ")
        #expect(!ASCII.isFieldValueChar(0x7F))
        #expect(ASCII.equalsIgnoringCase(Array("Chunked".utf8), Array("CHUNKED".utf8)))
        #expect(!ASCII.equalsIgnoringCase(Array("chunked".utf8), Array("chunke".utf8)))
    }
}
