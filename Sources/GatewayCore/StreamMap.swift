/// Objects keyed by HTTP/2 stream id: open addressing with linear probing, for the lookups every frame makes.
///
/// A `Dictionary<Int32, _>` hashes each key with SipHash; stream ids are small, mostly consecutive odd numbers,
/// so `id >> 1` masked to the table is a collision-free slot for the common case. Deletion shifts later entries
/// back (no tombstones), so a long-lived connection never degrades. Keys must be positive (stream 0 is the
/// connection and never stored).
public struct StreamMap<Value: AnyObject> {
    // Inlinable (and so usable from inlinable code): the map is generic and lives in another module than its users,
    // which would otherwise call unspecialized code through metadata on every lookup.
    @usableFromInline var keys: [Int32]
    @usableFromInline var values: [Value?]
    @usableFromInline var mask: Int
    @usableFromInline var storedCount = 0
    public var count: Int { storedCount }

    @inlinable
    public init(capacity: Int = 16) {
        var size = 8
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        values = Array(repeating: nil, count: size)
        mask = size - 1
    }

    @inlinable
    public var isEmpty: Bool { storedCount == 0 }

    @inlinable @inline(__always)
    func home(_ key: Int32) -> Int { Int(truncatingIfNeeded: key >> 1) & mask }

    /// The slot holding `key`, or nil.
    @inlinable @inline(__always)
    func find(_ key: Int32) -> Int? {
        guard key > 0 else { return nil }
        var i = home(key)
        while true {
            let k = keys[i]
            if k == key { return i }
            if k == 0 { return nil }
            i = (i &+ 1) & mask
        }
    }

    @inlinable
    public subscript(key: Int32) -> Value? {
        get { find(key).flatMap { values[$0] } }
        set {
            if let v = newValue { insert(v, for: key) } else { removeValue(forKey: key) }
        }
    }

    @inlinable
    mutating func insert(_ value: Value, for key: Int32) {
        guard key > 0 else { return }
        if let i = find(key) {
            values[i] = value
            return
        }
        if (storedCount + 1) * 2 > keys.count { grow() }
        var i = home(key)
        while keys[i] != 0 { i = (i &+ 1) & mask }
        keys[i] = key
        values[i] = value
        storedCount += 1
    }

    @inlinable @discardableResult
    public mutating func removeValue(forKey key: Int32) -> Value? {
        guard var hole = find(key) else { return nil }
        let removed = values[hole]
        keys[hole] = 0
        values[hole] = nil
        storedCount -= 1
        // Backward-shift: move later entries of the probe run into the hole when their home allows it.
        var i = (hole &+ 1) & mask
        while keys[i] != 0 {
            let h = home(keys[i])
            // The entry at i may move to `hole` if `hole` lies cyclically in [h, i).
            let distToHole = (hole &- h) & mask
            let distToI = (i &- h) & mask
            if distToHole < distToI {
                keys[hole] = keys[i]
                values[hole] = values[i]
                keys[i] = 0
                values[i] = nil
                hole = i
            }
            i = (i &+ 1) & mask
        }
        return removed
    }

    public mutating func removeAll() {
        for i in keys.indices where keys[i] != 0 {
            keys[i] = 0
            values[i] = nil
        }
        storedCount = 0
    }

    /// Entries in no particular order.
    public var entries: [(key: Int32, value: Value)] {
        var out: [(key: Int32, value: Value)] = []
        out.reserveCapacity(storedCount)
        for i in keys.indices where keys[i] != 0 {
            if let v = values[i] { out.append((keys[i], v)) }
        }
        return out
    }

    public var allKeys: [Int32] { entries.map(\.key) }

    @usableFromInline
    mutating func grow() {
        let old = entries
        let size = keys.count * 2
        keys = Array(repeating: 0, count: size)
        values = Array(repeating: nil, count: size)
        mask = size - 1
        storedCount = 0
        for (k, v) in old { insert(v, for: k) }
    }
}
