/// A small strict JSON (RFC 8259) reader for the flat objects in JWT headers and payloads.
///
/// It exists because Foundation's decoders cost more than the whole verification budget. It rejects
/// duplicate member names (two parsers must never disagree about which `exp` counts), invalid UTF-8,
/// lone surrogates, raw control characters and trailing bytes; nested values are syntax-checked to a small
/// depth and then dropped.
package struct FlatJSONReader {
    /// A parsed object: members in document order.
    package typealias Members = [JSONMember]

    static let maxMembers = 64
    static let maxDepth = 8

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Parses `bytes` as one JSON object; nil when it is anything else.
    package static func parseObject(_ bytes: UnsafeBufferPointer<UInt8>) -> Members? {
        var reader = FlatJSONReader(bytes)
        guard let members = reader.readTopObject() else { return nil }
        reader.skipWhitespace()
        return reader.index == bytes.count ? members : nil
    }

    package static func parseObject(_ bytes: [UInt8]) -> Members? {
        bytes.withUnsafeBufferPointer { parseObject($0) }
    }

    // MARK: - grammar

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    private mutating func readTopObject() -> Members? {
        skipWhitespace()
        guard expect(UInt8(ascii: "{")) else { return nil }
        var members: Members = []
        members.reserveCapacity(8)
        skipWhitespace()
        if expect(UInt8(ascii: "}")) { return members }
        while true {
            skipWhitespace()
            guard let key = readString() else { return nil }
            skipWhitespace()
            guard expect(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            guard let value = readValue(depth: 1) else { return nil }
            for existing in members where existing.key == key { return nil }
            members.append(JSONMember(key: key, value: value))
            if members.count > Self.maxMembers { return nil }
            skipWhitespace()
            if expect(UInt8(ascii: ",")) { continue }
            if expect(UInt8(ascii: "}")) { return members }
            return nil
        }
    }

    private mutating func readValue(depth: Int) -> JSONValue? {
        guard let c = peek else { return nil }
        switch c {
        case UInt8(ascii: "\""):
            return readString().map { .string($0) }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return readNumber()
        case UInt8(ascii: "t"):
            return readLiteral("true") ? .bool(true) : nil
        case UInt8(ascii: "f"):
            return readLiteral("false") ? .bool(false) : nil
        case UInt8(ascii: "n"):
            return readLiteral("null") ? .null : nil
        case UInt8(ascii: "["):
            return readArray(depth: depth)
        case UInt8(ascii: "{"):
            return skipObject(depth: depth) ? .other : nil
        default:
            return nil
        }
    }

    private mutating func readLiteral(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard index + n <= bytes.count else { return false }
        let w = word.utf8Start
        for k in 0..<n where bytes[index + k] != w[k] { return false }
        index += n
        return true
    }

    private mutating func readArray(depth: Int) -> JSONValue? {
        guard depth < Self.maxDepth, expect(UInt8(ascii: "[")) else { return nil }
        var strings: [String] = []
        var allStrings = true
        skipWhitespace()
        if expect(UInt8(ascii: "]")) { return .stringArray([]) }
        while true {
            skipWhitespace()
            guard let element = readValue(depth: depth + 1) else { return nil }
            if case .string(let s) = element, allStrings {
                strings.append(s)
            } else {
                allStrings = false
            }
            skipWhitespace()
            if expect(UInt8(ascii: ",")) { continue }
            if expect(UInt8(ascii: "]")) { return allStrings ? .stringArray(strings) : .other }
            return nil
        }
    }

    private mutating func skipObject(depth: Int) -> Bool {
        guard depth < Self.maxDepth, expect(UInt8(ascii: "{")) else { return false }
        skipWhitespace()
        if expect(UInt8(ascii: "}")) { return true }
        while true {
            skipWhitespace()
            guard readString() != nil else { return false }
            skipWhitespace()
            guard expect(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            guard readValue(depth: depth + 1) != nil else { return false }
            skipWhitespace()
            if expect(UInt8(ascii: ",")) { continue }
            return expect(UInt8(ascii: "}"))
        }
    }

    /// Reads a string literal; the fast path (no escapes) validates UTF-8 straight from the input.
    private mutating func readString() -> String? {
        guard expect(UInt8(ascii: "\"")) else { return nil }
        let start = index
        var asciiOnly = true
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                // ASCII (every real claim) takes the cheap decoding path; anything else is validated strictly.
                return asciiOnly ? String(decoding: text, as: UTF8.self) : String(validating: text, as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") { return readEscapedString(from: start) }
            if c < 0x20 { return nil }
            if c >= 0x80 { asciiOnly = false }
            index += 1
        }
        return nil
    }

    private mutating func readEscapedString(from start: Int) -> String? {
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let c = bytes[index]
            index += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(validating: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek else { return nil }
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = readUnicodeEscape() else { return nil }
                    out.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            default:
                if c < 0x20 { return nil }
                out.append(c)
            }
        }
        return nil
    }

    /// After `\u`: four hex digits, pairing surrogates; a lone surrogate is an error.
    private mutating func readUnicodeEscape() -> Unicode.Scalar? {
        guard let high = readHex4() else { return nil }
        if (0xD800...0xDBFF).contains(high) {
            guard expect(UInt8(ascii: "\\")), expect(UInt8(ascii: "u")), let low = readHex4(),
                  (0xDC00...0xDFFF).contains(low) else { return nil }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        }
        if (0xDC00...0xDFFF).contains(high) { return nil }
        return Unicode.Scalar(high)
    }

    private mutating func readHex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
            index += 1
        }
        return v
    }

    /// RFC 8259 number grammar; integers of up to 15 digits are read exactly, anything else via Double and floored.
    private mutating func readNumber() -> JSONValue? {
        let start = index
        _ = expect(UInt8(ascii: "-"))
        guard let first = peek, isDigit(first) else { return nil }
        index += 1
        if first != UInt8(ascii: "0") {
            while let c = peek, isDigit(c) { index += 1 }
        }
        var exact = true
        if expect(UInt8(ascii: ".")) {
            exact = false
            guard let c = peek, isDigit(c) else { return nil }
            while let c = peek, isDigit(c) { index += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            exact = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard let c = peek, isDigit(c) else { return nil }
            while let c = peek, isDigit(c) { index += 1 }
        }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
        let limit: Int64 = 1_000_000_000_000_000
        if exact && text.count <= 16 {
            var v: Int64 = 0
            var negative = false
            for c in text {
                if c == UInt8(ascii: "-") { negative = true; continue }
                v = v * 10 + Int64(c - UInt8(ascii: "0"))
            }
            if v > limit { return .number(nil) }
            return .number(negative ? -v : v)
        }
        guard let d = Double(String(decoding: text, as: UTF8.self)), d.isFinite else { return nil }
        let floored = d.rounded(.down)
        guard abs(floored) <= Double(limit) else { return .number(nil) }
        return .number(Int64(floored))
    }

    @inline(__always)
    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
}
