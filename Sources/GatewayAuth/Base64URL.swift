/// Strict, unpadded base64url (RFC 4648 §5) as JWS uses it: canonical encodings only.
enum Base64URL {
    /// The 6-bit value of an alphabet byte, or 0xFF for anything outside `A-Z a-z 0-9 - _`.
    @inline(__always)
    static func sextet(_ c: UInt8) -> UInt8 {
        switch c {
        case 0x41...0x5A: return c &- 0x41
        case 0x61...0x7A: return c &- 0x47
        case 0x30...0x39: return c &+ 4
        case 0x2D: return 62
        case 0x5F: return 63
        default: return 0xFF
        }
    }

    /// Decodes `input`; nil for a length of 4n+1, a byte outside the alphabet, or non-zero leftover bits
    /// (which would let two spellings carry the same bytes, so a mutated signature could still verify).
    static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let n = input.count
        if n % 4 == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(n * 3 / 4)
        var i = 0
        while i + 4 <= n {
            let a = sextet(input[i]), b = sextet(input[i + 1]), c = sextet(input[i + 2]), d = sextet(input[i + 3])
            if (a | b | c | d) & 0xC0 != 0 { return nil }
            out.append(a << 2 | b >> 4)
            out.append(b << 4 | c >> 2)
            out.append(c << 6 | d)
            i += 4
        }
        switch n - i {
        case 2:
            let a = sextet(input[i]), b = sextet(input[i + 1])
            if (a | b) & 0xC0 != 0 || b & 0x0F != 0 { return nil }
            out.append(a << 2 | b >> 4)
        case 3:
            let a = sextet(input[i]), b = sextet(input[i + 1]), c = sextet(input[i + 2])
            if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 { return nil }
            out.append(a << 2 | b >> 4)
            out.append(b << 4 | c >> 2)
        default:
            break
        }
        return out
    }

    static func decode(_ input: [UInt8]) -> [UInt8]? {
        input.withUnsafeBufferPointer { decode($0) }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Encodes without padding.
    static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var acc: UInt32 = 0
        var bits = 0
        for byte in bytes {
            acc = acc << 8 | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[Int((acc >> UInt32(bits)) & 0x3F)])
            }
        }
        if bits > 0 {
            out.append(alphabet[Int((acc << UInt32(6 - bits)) & 0x3F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
