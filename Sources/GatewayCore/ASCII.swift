/// ASCII helpers shared by the parsers and header logic.
public enum ASCII {
    @inlinable
    public static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

    /// RFC 9110 `tchar`: the bytes allowed in a token (method, field name): `!#$%&'*+-.^_`|~`, digits, letters.
    ///
    /// One bit per byte in two 64-bit masks: the switch over ranges and 15 single bytes compiled to a jump table,
    /// an indirect branch for every byte of every field name the parsers check.
    @inlinable
    public static func isTokenChar(_ b: UInt8) -> Bool {
        // Bit n of `low` is byte n (0-63), of `high` byte 64 + n (64-127); nothing above 127 is a tchar.
        let low: UInt64 = 0x03FF_6CFA_0000_0000
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE
        let mask = b < 64 ? low : (b < 128 ? high : 0)
        return (mask >> UInt64(b & 63)) & 1 != 0
    }

    /// RFC 9110 field-value byte: visible ASCII, SP, HTAB or obs-text; never CR, LF, NUL or another control.
    @inlinable
    public static func isFieldValueChar(_ b: UInt8) -> Bool {
        b == 0x09 || (b >= 0x20 && b != 0x7F)
    }

    /// `s[r]` equals the lower-case literal `lower`, ignoring the case of `s`. A literal of more than one character
    /// is stored as bytes and read directly (the closure of `withUTF8Buffer` was a call per comparison).
    @inlinable
    public static func equalsLower(_ s: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ lower: StaticString) -> Bool {
        guard r.count == lower.utf8CodeUnitCount else { return false }
        guard lower.hasPointerRepresentation else {
            return lower.withUTF8Buffer { l in zip(r, l).allSatisfy { ASCII.lower(s[$0]) == $1 } }
        }
        let l = lower.utf8Start
        let n = r.count
        if n >= 8, let base = s.baseAddress {
            // Eight bytes at a time, the last word overlapping the one before it: most names compared here
            // (`content-length`, `connection`, `transfer-encoding`) are longer than a word.
            let a = UnsafeRawPointer(base + r.lowerBound)
            let b = UnsafeRawPointer(l)
            var i = 0
            while i + 8 < n {
                if lowerWord(a.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
                i += 8
            }
            return lowerWord(a.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
                == b.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        var k = 0
        for j in r {
            if ASCII.lower(s[j]) != l[k] { return false }
            k += 1
        }
        return true
    }

    /// `ASCII.lower` applied to each of the 8 bytes of `x`, exactly, whatever the bytes: a byte gets 0x20 added
    /// only when it is `A`-`Z`. The tests add 0x80-biased bounds to the low 7 bits, so nothing carries across bytes.
    @inlinable @inline(__always)
    public static func lowerWord(_ x: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let low7 = x & (0x7F &* ones)
        let atLeastA = low7 &+ ((0x80 - 0x41) &* ones)
        let aboveZ = low7 &+ ((0x80 - 0x5B) &* ones)
        let upper = atLeastA & ~aboveZ & ~x & (0x80 &* ones)
        return x | (upper >> 2)
    }

    /// `a` equals the literal `b`, ignoring ASCII case (the literal's bytes come from the binary, not a String).
    @inlinable
    public static func equalsIgnoringCase(_ a: UnsafeBufferPointer<UInt8>, _ b: StaticString) -> Bool {
        b.withUTF8Buffer { equalsIgnoringCase(a, $0) }
    }

    /// Appends literal text, copied from the binary (a `String` literal's `utf8` view goes through the generic
    /// `Array` append: a retain and an element-by-element copy).
    @inlinable
    public static func append(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// Appends `v` in decimal, zero-padded to `minimumDigits`; a negative value is written as 0. No `String` made.
    @inlinable
    public static func appendDecimal(_ v: Int64, minimumDigits: Int = 1, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            // Filled from the end: Int64.max has 19 digits.
            var v = max(v, 0)
            var i = digits.count
            repeat {
                i -= 1
                digits[i] = UInt8(truncatingIfNeeded: 0x30 &+ v % 10)
                v /= 10
            } while v > 0 || (digits.count - i < minimumDigits && i > 0)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }

    /// ASCII case-insensitive byte comparison. Inlinable: unspecialized across modules, each call looked up generic
    /// metadata, which a profile of the HTTP/2 response path showed as a tenth of the gateway's CPU.
    @inlinable
    public static func equalsIgnoringCase<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool where A.Element == UInt8, B.Element == UInt8 {
        guard a.count == b.count else { return false }
        var i = a.startIndex
        var j = b.startIndex
        while i != a.endIndex {
            if lower(a[i]) != lower(b[j]) { return false }
            a.formIndex(after: &i)
            b.formIndex(after: &j)
        }
        return true
    }
}
