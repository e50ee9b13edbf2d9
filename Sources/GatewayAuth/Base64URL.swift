/// Strict, unpadded base64url (RFC 4648 §5) as JWS uses it: canonical encodings only.
package enum Base64URL {
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

    /// `sextet` for every byte value, so the hot loops do one load per byte.
    static let table: [UInt8] = (0...255).map { sextet(UInt8($0)) }

    /// Bytes that `count` base64url characters decode to; nil for the impossible 4n+1.
    package static func decodedLength(_ count: Int) -> Int? {
        let rest = count % 4
        if rest == 1 { return nil }
        return count / 4 * 3 + (rest == 0 ? 0 : rest - 1)
    }

    /// Decodes `input`; nil for a length of 4n+1, a byte outside the alphabet, or non-zero leftover bits
    /// (which would let two spellings carry the same bytes, so a mutated signature could still verify).
    package static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard let outCount = decodedLength(input.count) else { return nil }
        var ok = true
        let out = [UInt8](unsafeUninitializedCapacity: outCount) { buffer, initialized in
            if decode(input, into: buffer) == nil {
                // Keep the array fully initialized; it is dropped anyway.
                buffer.initialize(repeating: 0)
                ok = false
            }
            initialized = outCount
        }
        return ok ? out : nil
    }

    /// Decodes `input` into `out` (at least `decodedLength` bytes, e.g. a stack buffer); the count, or nil.
    static func decode(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        guard let outCount = decodedLength(input.count), out.count >= outCount else { return nil }
        let full = input.count / 4
        let rest = input.count % 4
        return table.withUnsafeBufferPointer { t -> Int? in
            var i = 0
            var o = 0
            for _ in 0..<full {
                let a = t[Int(input[i])], b = t[Int(input[i + 1])], c = t[Int(input[i + 2])], d = t[Int(input[i + 3])]
                if (a | b | c | d) & 0xC0 != 0 { return nil }
                out[o] = a << 2 | b >> 4
                out[o + 1] = b << 4 | c >> 2
                out[o + 2] = c << 6 | d
                i += 4
                o += 3
            }
            if rest == 2 {
                let a = t[Int(input[i])], b = t[Int(input[i + 1])]
                if (a | b) & 0xC0 != 0 || b & 0x0F != 0 { return nil }
                out[o] = a << 2 | b >> 4
            } else if rest == 3 {
                let a = t[Int(input[i])], b = t[Int(input[i + 1])], c = t[Int(input[i + 2])]
                if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 { return nil }
                out[o] = a << 2 | b >> 4
                out[o + 1] = b << 4 | c >> 2
            }
            return outCount
        }
    }

    package static func decode(_ input: [UInt8]) -> [UInt8]? {
        input.withUnsafeBufferPointer { decode($0) }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Encodes without padding.
    package static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
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
