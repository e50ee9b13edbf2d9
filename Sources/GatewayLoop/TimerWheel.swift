import Dispatch
import GatewayCore

/// A re-armable deadline owned by a connection; arming and disarming are O(1) and allocate nothing.
///
/// Disarming, and arming to a later deadline while still filed in the wheel, only change fields: the wheel drops or
/// refiles the timer when it reaches the tick it is filed under (nginx and the Linux kernel treat their timers the
/// same way). A request's response timeout is armed and disarmed once per exchange, so most of those calls never
/// touch the wheel's lists.
public final class LoopTimer {
    #if DEBUG
    /// The loop's queue, for the debug check that arming happens on it (the loop itself may be gone first).
    private let queue: DispatchQueue
    #endif
    /// Strong: the wheel holds no reference back, and a plain retain here saves an unowned load per arm.
    private let wheel: TimerWheel
    var deadline: UInt64 = 0
    /// Logically armed: `deadline` holds. A timer may stay filed (`slot >= 0`) after it was disarmed.
    var active = false
    /// The wheel tick it is filed under, while `slot >= 0`.
    var tick: UInt64 = 0
    var slot: Int = -1
    var next: LoopTimer?
    unowned(unsafe) var prev: LoopTimer?
    private let handler: () -> Void

    /// `handler` runs on the loop when the deadline passes; it must not capture its owner strongly.
    public init(loop: EventLoop, handler: @escaping () -> Void) {
        #if DEBUG
        queue = loop.queue
        #endif
        wheel = loop.wheel
        self.handler = handler
    }

    public var isArmed: Bool { active }

    /// (Re)arms the timer to fire `nanos` from now.
    public func arm(afterNanos nanos: UInt64) {
        #if DEBUG
        dispatchPrecondition(condition: .onQueue(queue))
        #endif
        let d = wheel.now() &+ nanos
        deadline = d
        active = true
        // Filed at or before the new deadline's tick: the wheel refiles it when it gets there.
        if slot >= 0 && wheel.tick(for: d) >= tick { return }
        wheel.insert(self, deadline: d)
    }

    public func arm(after span: TimeSpan) { arm(afterNanos: UInt64(max(0, span.nanoseconds))) }

    /// The handler will not run (until the next `arm`); the wheel unlinks the timer when it reaches its tick.
    public func disarm() { active = false }

    func fire() { handler() }
}

/// A hashed timing wheel: one slot per tick, timers beyond one revolution wait in their slot and are rechecked.
final class TimerWheel {
    private var slots: [LoopTimer?]
    private let tickNanos: UInt64
    private var current: UInt64
    private(set) var count = 0
    /// The monotonic time read when the poller's current round began; 0 outside a round.
    var roundNanos: UInt64 = 0

    init(tickNanos: UInt64, now: UInt64, slotCount: Int = 512) {
        self.tickNanos = max(1, tickNanos)
        slots = Array(repeating: nil, count: slotCount)
        current = now / self.tickNanos
    }

    /// Monotonic nanoseconds: inside a poll round the time read when it began (one clock read per round, not one
    /// per timer arm and timestamp; a round lasts microseconds to a few milliseconds), else the clock.
    @inline(__always)
    func now() -> UInt64 { roundNanos != 0 ? roundNanos : SystemClock().monotonicNanos() }

    /// The tick a deadline is filed under: the first one at or after it, and never the current or an earlier one.
    @inline(__always)
    func tick(for deadline: UInt64) -> UInt64 { max((deadline + tickNanos - 1) / tickNanos, current + 1) }

    func insert(_ t: LoopTimer, deadline: UInt64) {
        if t.slot >= 0 { remove(t) }
        t.deadline = deadline
        let tick = tick(for: deadline)
        let s = Int(tick % UInt64(slots.count))
        t.tick = tick
        t.slot = s
        t.prev = nil
        t.next = slots[s]
        slots[s]?.prev = t
        slots[s] = t
        count += 1
    }

    func remove(_ t: LoopTimer) {
        guard t.slot >= 0 else { return }
        if let p = t.prev { p.next = t.next } else { slots[t.slot] = t.next }
        t.next?.prev = t.prev
        t.next = nil
        t.prev = nil
        t.slot = -1
        count -= 1
    }

    func advance(to now: UInt64) {
        let target = now / tickNanos
        guard count > 0 else {
            current = target
            return
        }
        var due: [LoopTimer] = []
        let limit = min(target, current + UInt64(slots.count))
        while current < limit {
            current += 1
            var node = slots[Int(current % UInt64(slots.count))]
            while let t = node {
                node = t.next
                if !t.active {
                    remove(t)
                } else if t.deadline <= now {
                    remove(t)
                    due.append(t)
                } else if t.tick <= current {
                    // Re-armed to a later deadline while filed here.
                    insert(t, deadline: t.deadline)
                }
                // Otherwise it is filed for a later revolution of the wheel.
            }
        }
        current = target
        for t in due where t.active && t.slot < 0 {
            // Skipped when an earlier handler of this batch disarmed or re-armed it.
            t.active = false
            t.fire()
        }
    }
}
