import GatewayCore
import Synchronization

/// The in-process replay store: single-use token ids held in memory until they expire, bounded by `maxEntries`.
///
/// Each entry is a 128-bit keyed hash of `(app, jti)` plus a 32-bit expiry second (24-byte slots in
/// open-addressing tables, no strings kept). The table is split into shards, each behind its own lock, so
/// event loops admitting at the same time rarely wait on each other. Expired entries are removed a second's
/// worth at a time as admits pass through a shard, never by scanning the table.
public final class MemoryReplayStore: ReplayStore {
    private static let shardCount = 64

    /// One shard and its lock; a class so the locks live in an array.
    private final class LockedShard: Sendable {
        let table: Locked<ReplayShard>
        init(now: UInt32) { table = Locked(ReplayShard(now: now)) }
    }

    private let shards: [LockedShard]
    private let maxEntries: Int
    private let clock: any Clock
    private let secret: ReplayKey.Secret
    /// Entries held across all shards; also the admission ticket for the bound (see `reserve`).
    private let total = Atomic<Int>(0)
    /// Wall second that store-relative times count from (kept one before creation so live deaths are >= 1).
    private let base: Int64

    /// A store holding at most `maxEntries` live token ids, reading wall time from `clock`.
    public init(maxEntries: Int, clock: any Clock) {
        self.maxEntries = max(0, maxEntries)
        self.clock = clock
        self.secret = ReplayKey.Secret.random()
        self.base = clock.wallSeconds() - 1
        let now = UInt32(1)
        shards = (0..<Self.shardCount).map { _ in LockedShard(now: now) }
    }

    /// Live entries: sweeps every shard first (64 short lock holds), so read it from metrics, not per request.
    public var entryCount: Int {
        sweepAll(now: relative(clock.wallSeconds()))
        return total.load(ordering: .relaxed)
    }

    /// The memory store is always ready.
    public func isReady(completion: @escaping @Sendable (Bool) -> Void) {
        completion(true)
    }

    /// Answers synchronously: `completion` has run when `admit` returns.
    ///
    /// An `until` already in the past is answered `.fresh` without being recorded: such a token fails the
    /// expiry check anyway, so there is nothing left to protect.
    public func admit(app: String, jti: String, until: Int64, completion: @escaping @Sendable (ReplayAdmission) -> Void) {
        completion(admit(app: app, jti: jti, until: until))
    }

    /// The synchronous form of `admit(app:jti:until:completion:)`.
    public func admit(app: String, jti: String, until: Int64) -> ReplayAdmission {
        let nowWall = clock.wallSeconds()
        guard until >= nowWall else { return .fresh }
        let now = relative(nowWall)
        let death = relative(until &+ 1)
        let key = ReplayKey(app: app, jti: jti, secret: secret)
        let shard = shards[Int(truncatingIfNeeded: key.h2 >> 58) % Self.shardCount]
        let first = shard.table.withLock { admit(key, death: death, now: now, in: &$0) }
        guard first == .full else { return first }
        // Room may be waiting in other shards' expired entries: sweep them all once, then try again.
        sweepAll(now: now)
        return shard.table.withLock { admit(key, death: death, now: now, in: &$0) }
    }

    private func admit(_ key: ReplayKey, death: UInt32, now: UInt32, in table: inout ReplayShard) -> ReplayAdmission {
        var removed = table.sweep(now: now)
        let lookup = table.containsLive(key, now: now)
        removed += lookup.removed
        if removed > 0 { total.subtract(removed, ordering: .relaxed) }
        if lookup.live { return .replayed }
        guard reserve() else { return .full }
        table.insert(key, death: death)
        return .fresh
    }

    public func release(app: String, jti: String) {
        let key = ReplayKey(app: app, jti: jti, secret: secret)
        let shard = shards[Int(truncatingIfNeeded: key.h2 >> 58) % Self.shardCount]
        if shard.table.withLock({ $0.remove(key) }) { total.subtract(1, ordering: .relaxed) }
    }

    /// Takes one unit of the global bound; fails (and gives it back) when the store is at `maxEntries`.
    /// One atomic add hands out distinct tickets, so the bound holds exactly even across shards.
    private func reserve() -> Bool {
        let before = total.add(1, ordering: .relaxed).oldValue
        if before < maxEntries { return true }
        total.subtract(1, ordering: .relaxed)
        return false
    }

    /// Removes every entry expired at wall second `now` from every shard (admits already do this shard by shard).
    public func sweep(now: Int64) {
        sweepAll(now: relative(now))
    }

    private func sweepAll(now: UInt32) {
        for shard in shards {
            let removed = shard.table.withLock { $0.sweep(now: now) }
            if removed > 0 { total.subtract(removed, ordering: .relaxed) }
        }
    }

    /// Bytes held by the tables and expiry buckets (excludes allocator overhead); for benchmarks.
    public var footprintBytes: Int {
        shards.reduce(0) { sum, shard in sum + shard.table.withLock { $0.footprintBytes } }
    }

    /// Wall seconds to store-relative seconds, clamped into `1...UInt32.max` (~136 years of range).
    private func relative(_ wall: Int64) -> UInt32 {
        let offset = wall &- base
        if offset < 1 { return 1 }
        if offset > Int64(UInt32.max) { return UInt32.max }
        return UInt32(offset)
    }
}
