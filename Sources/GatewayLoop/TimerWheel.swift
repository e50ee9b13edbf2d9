import Dispatch
import GatewayCore

/// A re-armable deadline owned by a connection; arming and disarming are O(1) and allocate nothing.
public final class LoopTimer {
    #if DEBUG
    /// The loop's queue, for the debug check that arming happens on it (the loop itself may be gone first).
    private let queue: DispatchQueue
    #endif
    /// Strong: the wheel holds no reference back, and a plain retain here saves an unowned load per arm.
    private let wheel: TimerWheel
    var deadline: UInt64 = 0
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

    public var isArmed: Bool { slot >= 0 }

    /// (Re)arms the timer to fire `nanos` from now.
    public func arm(afterNanos nanos: UInt64) {
        #if DEBUG
        dispatchPrecondition(condition: .onQueue(queue))
        #endif
        wheel.insert(self, deadline: wheel.now() &+ nanos)
    }

    public func arm(after span: TimeSpan) { arm(afterNanos: UInt64(max(0, span.nanoseconds))) }

    public func disarm() {
        if slot >= 0 { wheel.remove(self) }
    }

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

    func insert(_ t: LoopTimer, deadline: UInt64) {
        if t.slot >= 0 { remove(t) }
        t.deadline = deadline
        var tick = (deadline + tickNanos - 1) / tickNanos
        if tick <= current { tick = current + 1 }
        let s = Int(tick % UInt64(slots.count))
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
                if t.deadline <= now {
                    remove(t)
                    due.append(t)
                }
            }
        }
        current = target
        for t in due { t.fire() }
    }
}
