/// An ordered list of header fields kept as the bytes that arrived, so forwarding copies bytes instead of rebuilding strings.
///
/// Names keep their original case (HTTP/1.1) or arrive lower-cased (HTTP/2); every lookup is ASCII case-insensitive.
public struct HTTPHeaders: Sendable {
    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var nameStart: Int32
        @usableFromInline var nameEnd: Int32
        @usableFromInline var valueStart: Int32
        @usableFromInline var valueEnd: Int32

        @usableFromInline
        init(nameStart: Int32, nameEnd: Int32, valueStart: Int32, valueEnd: Int32) {
            self.nameStart = nameStart
            self.nameEnd = nameEnd
            self.valueStart = valueStart
            self.valueEnd = valueEnd
        }
    }

    /// Raw bytes the entries point into; may contain bytes no entry refers to (request line, removed fields).
    public private(set) var storage: [UInt8]
    @usableFromInline var entries: [Entry]

    public init() {
        storage = []
        entries = []
    }

    /// Adopts `storage` (usually the raw head bytes) so later `appendIndexed` calls can point into it.
    public init(storage: [UInt8], capacity: Int = 16) {
        self.storage = storage
        entries = []
        entries.reserveCapacity(capacity)
    }

    /// Adopts `storage` and the memory of `spare`'s entry array (emptied first), so a recycled value spares an
    /// allocation.
    public init(storage: [UInt8], reusingEntriesOf spare: consuming HTTPHeaders) {
        self.storage = storage
        // Swapped out, not read: a copy would share the array, and emptying a shared array allocates a new one.
        var e: [Entry] = []
        swap(&e, &spare.entries)
        e.removeAll(keepingCapacity: true)
        if e.capacity < 16 { e.reserveCapacity(16) }
        entries = e
    }

    /// Empties the fields, keeping the memory of both arrays for the next head built in this value.
    public mutating func removeAllKeepingCapacity() {
        storage.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }

    /// Empties the fields and hands back the byte array (empty, its memory kept); `self` keeps its entry array's.
    public mutating func takeStorage() -> [UInt8] {
        var s: [UInt8] = []
        swap(&s, &storage)
        s.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        return s
    }

    /// Moves the fields out, leaving `self` empty: the value returned is the only owner of its arrays.
    public mutating func take() -> HTTPHeaders {
        var out = HTTPHeaders()
        swap(&out, &self)
        return out
    }

    /// The byte array's capacity: recyclers keep only values of a sane size.
    public var storageCapacity: Int { storage.capacity }

    // The accessors below are inlinable: parsers and the gate call them per field from other modules, where each
    // was an out-of-line call.
    @inlinable public var count: Int { entries.count }
    @inlinable public var isEmpty: Bool { entries.isEmpty }

    /// Records a field whose name and value already sit in `storage` at the given ranges.
    @inlinable
    public mutating func appendIndexed(name: Range<Int>, value: Range<Int>) {
        entries.append(Entry(nameStart: Int32(name.lowerBound), nameEnd: Int32(name.upperBound),
                             valueStart: Int32(value.lowerBound), valueEnd: Int32(value.upperBound)))
    }

    /// Appends a field by copying its bytes into `storage`.
    public mutating func append(name: String, value: String) {
        // Borrowed as spans: no copy and no reference counting (a closure given to
        // `withContiguousStorageIfAvailable` retained each string).
        let n = name.utf8.span
        let v = value.utf8.span
        n.withUnsafeBufferPointer { nb in
            v.withUnsafeBufferPointer { vb in append(nameBytes: nb, valueBytes: vb) }
        }
    }

    /// Appends a field by copying raw bytes into `storage`.
    public mutating func append<N: Collection, V: Collection>(nameBytes: N, valueBytes: V) where N.Element == UInt8, V.Element == UInt8 {
        let ns = storage.count
        storage.append(contentsOf: nameBytes)
        let ne = storage.count
        storage.append(contentsOf: valueBytes)
        appendIndexed(name: ns..<ne, value: ne..<storage.count)
    }

    /// Appends a field by copying raw bytes into `storage`; the concrete form of the generic append, for callers in
    /// other modules (a generic across modules runs unspecialized).
    public mutating func append(nameBytes: UnsafeBufferPointer<UInt8>, valueBytes: UnsafeBufferPointer<UInt8>) {
        if storage.capacity == 0 {
            // Grown one field at a time from empty, both arrays would reallocate several times per head.
            storage.reserveCapacity(512)
            entries.reserveCapacity(16)
        }
        let ns = storage.count
        let ne = ns + nameBytes.count
        // One growth, both parts copied in place: most are a few bytes, for which two appends (each a uniqueness
        // check, a capacity check and a call to memmove) cost more than the copy.
        storage.appendUninitialized(nameBytes.count + valueBytes.count) { d in
            if let n = nameBytes.baseAddress { Bytes.copy(UnsafeMutableRawPointer(d), UnsafeRawPointer(n), count: nameBytes.count) }
            if let v = valueBytes.baseAddress {
                Bytes.copy(UnsafeMutableRawPointer(d + nameBytes.count), UnsafeRawPointer(v), count: valueBytes.count)
            }
        }
        appendIndexed(name: ns..<ne, value: ne..<storage.count)
    }

    public mutating func remove(at index: Int) { entries.remove(at: index) }

    /// Removes every field for which `predicate(index)` holds.
    public mutating func removeAll(where predicate: (borrowing HTTPHeaders, Int) -> Bool) {
        // Judged first, compacted after: handing `self` to the predicate while `entries` is being written would
        // keep a second reference to it and force a copy of the array.
        let n = entries.count
        guard n > 0 else { return }
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: n) { drop in
            var any = false
            for i in 0..<n {
                let d = predicate(self, i)
                drop[i] = d
                any = any || d
            }
            guard any else { return }
            var w = 0
            for i in 0..<n where !drop[i] {
                if w != i { entries[w] = entries[i] }
                w += 1
            }
            entries.removeSubrange(w...)
        }
    }

    /// Removes every field named `name` (case-insensitive); returns how many went.
    @discardableResult
    public mutating func removeAll(named name: String) -> Int {
        let before = entries.count
        removeAll { h, i in h.nameEquals(i, name) }
        return before - entries.count
    }

    /// Replaces all fields named `name` with one field holding `value`, placed at the end.
    public mutating func replace(name: String, value: String) {
        removeAll(named: name)
        append(name: name, value: value)
    }

    @inlinable
    public func nameRange(_ i: Int) -> Range<Int> { Int(entries[i].nameStart)..<Int(entries[i].nameEnd) }
    @inlinable
    public func valueRange(_ i: Int) -> Range<Int> { Int(entries[i].valueStart)..<Int(entries[i].valueEnd) }
    public func nameBytes(_ i: Int) -> ArraySlice<UInt8> { storage[nameRange(i)] }
    public func valueBytes(_ i: Int) -> ArraySlice<UInt8> { storage[valueRange(i)] }
    public func name(_ i: Int) -> String { String(decoding: nameBytes(i), as: UTF8.self) }
    public func value(_ i: Int) -> String { String(decoding: valueBytes(i), as: UTF8.self) }

    /// True when field `i`'s name equals `name`, ignoring ASCII case. No allocation.
    @inlinable
    public func nameEquals(_ i: Int, _ name: String) -> Bool {
        let e = entries[i]
        let len = Int(e.nameEnd - e.nameStart)
        // A span borrows the string: no copy to make it contiguous, no retain.
        return name.utf8.span.withUnsafeBufferPointer { n in
            guard n.count == len else { return false }
            return storage.withUnsafeBufferPointer { s in
                var j = 0
                let base = Int(e.nameStart)
                while j < len {
                    if ASCII.lower(s[base + j]) != ASCII.lower(n[j]) { return false }
                    j += 1
                }
                return true
            }
        }
    }

    /// True when field `i`'s value equals `value`, ignoring ASCII case.
    public func valueEquals(_ i: Int, _ value: String) -> Bool {
        let v = valueBytes(i)
        guard v.count == value.utf8.count else { return false }
        return zip(v, value.utf8).allSatisfy { ASCII.lower($0) == ASCII.lower($1) }
    }

    public func firstIndex(named name: String) -> Int? {
        // One pass with both buffers open: a length check rules out most fields before any byte is compared
        // (per-field `nameEquals` reopened both, with a retain each, for every field).
        return name.utf8.span.withUnsafeBufferPointer { n in
            storage.withUnsafeBufferPointer { s in
                entries.withUnsafeBufferPointer { es in
                    for (i, e) in es.enumerated() where Int(e.nameEnd - e.nameStart) == n.count {
                        let base = Int(e.nameStart)
                        var j = 0
                        while j < n.count, ASCII.lower(s[base + j]) == ASCII.lower(n[j]) { j += 1 }
                        if j == n.count { return i }
                    }
                    return nil
                }
            }
        }
    }

    public func first(named name: String) -> String? {
        firstIndex(named: name).map { value($0) }
    }

    public func all(named name: String) -> [String] {
        entries.indices.filter { nameEquals($0, name) }.map { value($0) }
    }

    public func contains(named name: String) -> Bool { firstIndex(named: name) != nil }

    /// Iterates `(name, value)` as strings; for tests and slow paths.
    public var pairs: [(name: String, value: String)] {
        entries.indices.map { (name($0), value($0)) }
    }

    /// Writes `Name: value\r\n` for every field into `out`.
    public func serialize(into out: inout [UInt8]) {
        var total = 0
        for e in entries { total += Int(e.nameEnd - e.nameStart) + Int(e.valueEnd - e.valueStart) + 4 }
        guard total > 0 else { return }
        // Grown once, then filled through one pointer: six appends per field each checked uniqueness and capacity.
        storage.withUnsafeBufferPointer { s in
            out.appendUninitialized(total) { dst in
                // `storage` is empty only when every name and value is, and then nothing is read from it.
                let src = s.baseAddress ?? UnsafePointer(dst)
                var w = 0
                /// `storage[start..<end]` then the two bytes `a b`.
                func put(_ start: Int32, _ end: Int32, _ a: UInt8, _ b: UInt8) {
                    let n = Int(end - start)
                    Bytes.copy(UnsafeMutableRawPointer(dst + w), UnsafeRawPointer(src + Int(start)), count: n)
                    dst[w + n] = a
                    dst[w + n + 1] = b
                    w += n + 2
                }
                for e in entries {
                    put(e.nameStart, e.nameEnd, 0x3A, 0x20)
                    put(e.valueStart, e.valueEnd, 0x0D, 0x0A)
                }
            }
        }
    }

    /// Returns a copy whose storage holds only the live fields (drops the bytes of removed ones).
    public func compacted() -> HTTPHeaders {
        var h = HTTPHeaders()
        h.storage.reserveCapacity(storage.count)
        for i in entries.indices { h.append(nameBytes: nameBytes(i), valueBytes: valueBytes(i)) }
        return h
    }
}

extension HTTPHeaders {
    public init(_ pairs: [(String, String)]) {
        self.init()
        for (n, v) in pairs { append(name: n, value: v) }
    }
}

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

extension Array where Element == UInt8 {
    /// Appends `count` bytes that `fill` writes, all of them, through a pointer to the first. The array grows as
    /// `append` grows it, and nothing is zeroed first: growing with `append(contentsOf: repeatElement(0, count:))`
    /// stored the last 1-31 bytes one at a time, 2.6% of the gateway's user time on the HTTP/2 path.
    @inlinable
    public mutating func appendUninitialized(_ count: Int, _ fill: (UnsafeMutablePointer<UInt8>) -> Void) {
        guard count > 0 else { return }
        append(addingCapacity: count) { (out: inout OutputSpan<UInt8>) in
            out.withUnsafeMutableBufferPointer { free, initialized in
                // At least `count` free bytes, so the buffer has an address.
                guard let d = free.baseAddress else { return }
                fill(d)
                initialized = count
            }
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends raw bytes, copied in place: `append(contentsOf:)` with a raw buffer went through an iterator-based
    /// generic copy.
    @inlinable
    public mutating func appendBytes(_ raw: UnsafeRawBufferPointer) {
        guard let src = raw.baseAddress else { return }
        appendUninitialized(raw.count) { d in Bytes.copy(d, src, count: raw.count) }
    }
}

/// Byte copies sized for header fields.
public enum Bytes {
    /// Copies `count` bytes. Most names and values are under 32 bytes, where a call to `memmove` (what
    /// `update(from:count:)` becomes) costs more than the copy: those are done with a few overlapping
    /// unaligned loads, all made before any store.
    @inlinable @inline(__always)
    public static func copy(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, count n: Int) {
        switch n {
        case 0:
            return
        case 1...3:
            let a = s.load(as: UInt8.self)
            let b = s.load(fromByteOffset: n >> 1, as: UInt8.self)
            let c = s.load(fromByteOffset: n - 1, as: UInt8.self)
            d.storeBytes(of: a, as: UInt8.self)
            d.storeBytes(of: b, toByteOffset: n >> 1, as: UInt8.self)
            d.storeBytes(of: c, toByteOffset: n - 1, as: UInt8.self)
        case 4...7:
            let a = s.loadUnaligned(as: UInt32.self)
            let b = s.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            d.storeBytes(of: a, as: UInt32.self)
            d.storeBytes(of: b, toByteOffset: n - 4, as: UInt32.self)
        case 8...16:
            let a = s.loadUnaligned(as: UInt64.self)
            let b = s.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            d.storeBytes(of: a, as: UInt64.self)
            d.storeBytes(of: b, toByteOffset: n - 8, as: UInt64.self)
        case 17...32:
            let a = s.loadUnaligned(as: UInt64.self)
            let b = s.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let c = s.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self)
            let e = s.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            d.storeBytes(of: a, as: UInt64.self)
            d.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
            d.storeBytes(of: c, toByteOffset: n - 16, as: UInt64.self)
            d.storeBytes(of: e, toByteOffset: n - 8, as: UInt64.self)
        default:
            d.copyMemory(from: s, byteCount: n)
        }
    }
}
