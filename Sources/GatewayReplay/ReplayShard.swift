/// One shard of the memory store: an open-addressing table of fixed-width slots plus a ring of
/// per-second expiry buckets. Not thread-safe; `MemoryReplayStore` keeps each shard behind its own lock.
///
/// Times are `UInt32` seconds after the store's base instant. A slot's `death` is the first second at which
/// it is no longer live (`until + 1`); `death == 0` marks an empty slot.
struct ReplayShard: ~Copyable {
    /// 24 bytes: the 128-bit key and the death second.
    struct Slot {
        var h1: UInt64
        var h2: UInt64
        var death: UInt32
    }

    /// Seconds covered by one turn of the expiry ring; longer lifetimes just wait extra turns in their bucket.
    static let ringSeconds = 1024
    private static let initialCapacity = 64

    private var slots: UnsafeMutablePointer<Slot>
    private var capacity: Int
    /// Live-or-not-yet-swept entries in `slots`.
    private(set) var count = 0
    /// `buckets[d % ringSeconds]` holds the `h1` of entries whose death second is `d` (hints: checked on sweep).
    private var buckets: [[UInt64]]
    /// The last second whose bucket has been processed.
    private var sweptThrough: UInt32

    init(now: UInt32) {
        capacity = Self.initialCapacity
        slots = Self.allocate(capacity)
        buckets = Array(repeating: [], count: Self.ringSeconds)
        sweptThrough = now
    }

    deinit {
        slots.deallocate()
    }

    private static func allocate(_ capacity: Int) -> UnsafeMutablePointer<Slot> {
        let p = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
        p.initialize(repeating: Slot(h1: 0, h2: 0, death: 0), count: capacity)
        return p
    }

    private var mask: Int { capacity - 1 }

    @inline(__always)
    private func home(_ h1: UInt64) -> Int { Int(truncatingIfNeeded: h1) & mask }

    /// Bytes held by the table and the buckets (for the benchmark and tests).
    var footprintBytes: Int {
        capacity * MemoryLayout<Slot>.stride + buckets.reduce(0) { $0 + $1.capacity * 8 }
    }

    // MARK: lookups

    /// Whether `key` is held and still live at `now`; an expired copy found on the way is removed.
    /// Returns the number of entries removed as a side effect alongside.
    mutating func containsLive(_ key: ReplayKey, now: UInt32) -> (live: Bool, removed: Int) {
        var i = home(key.h1)
        while slots[i].death != 0 {
            if slots[i].h1 == key.h1, slots[i].h2 == key.h2 {
                if slots[i].death > now { return (true, 0) }
                remove(at: i)
                return (false, 1)
            }
            i = (i + 1) & mask
        }
        return (false, 0)
    }

    /// Forgets `key` (live or not); true when it was held. Its expiry hint stays and later finds nothing.
    mutating func remove(_ key: ReplayKey) -> Bool {
        var i = home(key.h1)
        while slots[i].death != 0 {
            if slots[i].h1 == key.h1, slots[i].h2 == key.h2 {
                remove(at: i)
                return true
            }
            i = (i + 1) & mask
        }
        return false
    }

    /// Records `key` until `death` (exclusive). The caller has checked it is absent and reserved room.
    mutating func insert(_ key: ReplayKey, death: UInt32) {
        if (count + 1) * 4 > capacity * 3 { grow() }
        place(Slot(h1: key.h1, h2: key.h2, death: death))
        count += 1
        buckets[Int(death) % Self.ringSeconds].append(key.h1)
    }

    private mutating func place(_ slot: Slot) {
        var i = home(slot.h1)
        while slots[i].death != 0 { i = (i + 1) & mask }
        slots[i] = slot
    }

    private mutating func grow() {
        let old = slots
        let oldCapacity = capacity
        capacity = oldCapacity * 2
        slots = Self.allocate(capacity)
        for i in 0..<oldCapacity where old[i].death != 0 {
            place(old[i])
        }
        old.deallocate()
    }

    /// Backward-shift deletion: later members of the probe run move up so no tombstones are needed.
    private mutating func remove(at index: Int) {
        var hole = index
        var j = index
        while true {
            j = (j + 1) & mask
            if slots[j].death == 0 { break }
            let k = home(slots[j].h1)
            // The entry at j may fill the hole only if its home is not cyclically within (hole, j].
            let staysPut = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j)
            if staysPut { continue }
            slots[hole] = slots[j]
            hole = j
        }
        slots[hole] = Slot(h1: 0, h2: 0, death: 0)
        count -= 1
    }

    // MARK: expiry

    /// Processes every second's bucket from the last sweep up to `now`, removing entries whose death is at
    /// or before `now`. Cost is proportional to the entries expiring (plus one bucket visit per second),
    /// never to the table size. Returns how many entries were removed.
    mutating func sweep(now: UInt32) -> Int {
        guard now > sweptThrough else { return 0 }
        let steps = min(Int(now - sweptThrough), Self.ringSeconds)
        let start = sweptThrough
        sweptThrough = now
        var removed = 0
        for step in 1...steps {
            let b = Int((UInt64(start) + UInt64(step)) % UInt64(Self.ringSeconds))
            if buckets[b].isEmpty { continue }
            var hints = buckets[b]
            buckets[b] = []
            var kept = 0
            for n in 0..<hints.count {
                switch removeExpired(h1: hints[n], now: now) {
                case .removed: removed += 1
                case .stillLive: hints[kept] = hints[n]; kept += 1
                case .gone: break
                }
            }
            if kept > 0 {
                hints.removeLast(hints.count - kept)
                buckets[b] = hints
            }
        }
        return removed
    }

    private enum HintOutcome { case removed, stillLive, gone }

    /// Follows one bucket hint: removes an expired slot with this `h1`, or says a live one still holds it.
    /// A hint only ever removes an expired slot, so stale or duplicated hints are harmless.
    private mutating func removeExpired(h1: UInt64, now: UInt32) -> HintOutcome {
        var i = home(h1)
        var sawLive = false
        while slots[i].death != 0 {
            if slots[i].h1 == h1 {
                if slots[i].death <= now {
                    remove(at: i)
                    return .removed
                }
                sawLive = true
            }
            i = (i + 1) & mask
        }
        return sawLive ? .stillLive : .gone
    }
}
