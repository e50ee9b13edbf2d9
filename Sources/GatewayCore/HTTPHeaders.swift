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
