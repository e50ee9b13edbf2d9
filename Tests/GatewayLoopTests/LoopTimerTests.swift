import Dispatch
import GatewayCore
import GatewayLoop
import Testing

/// Timers on a real loop. Positive checks wait generously; "never fires" checks wait a fixed 500 ms, which can
/// only make a failing timer look right on a stalled machine, never the reverse.
@Suite("LoopTimer")
struct LoopTimerTests {
    @Test("a timer armed for 100 ms fires once")
    func firesOnce() {
        let loop = EventLoop(index: 20)
        defer { loop.shutdown() }
        let fired = EventCounter()
        let timer = LoopTimer(loop: loop) { fired.record() }
        let armed = loop.queue.sync {
            timer.arm(after: .milliseconds(100))
            return timer.isArmed
        }
        #expect(armed)
        #expect(fired.wait(seconds: 5))
        #expect(fired.stays(at: 1, seconds: 0.3))
        #expect(loop.queue.sync { !timer.isArmed })
        withExtendedLifetime(timer) {}
    }

    @Test("a disarmed timer never fires")
    func disarmed() {
        let loop = EventLoop(index: 21)
        defer { loop.shutdown() }
        let fired = EventCounter()
        let timer = LoopTimer(loop: loop) { fired.record() }
        let state = loop.queue.sync {
            timer.arm(afterNanos: 100_000_000)
            let wasArmed = timer.isArmed
            timer.disarm()
            return (wasArmed, timer.isArmed)
        }
        #expect(state.0)
        #expect(!state.1)
        #expect(fired.stays(at: 0, seconds: 0.5))
        // Disarming an idle timer is harmless.
        loop.queue.sync { timer.disarm() }
        withExtendedLifetime(timer) {}
    }

    @Test("re-arming moves the deadline, earlier or later")
    func rearm() {
        let loop = EventLoop(index: 22)
        defer { loop.shutdown() }
        let early = EventCounter()
        let late = EventCounter()
        let earlier = LoopTimer(loop: loop) { early.record() }
        let later = LoopTimer(loop: loop) { late.record() }
        loop.queue.sync {
            earlier.arm(after: .seconds(30))
            earlier.arm(after: .milliseconds(100))
            later.arm(after: .milliseconds(100))
            later.arm(after: .seconds(30))
        }
        #expect(early.wait(seconds: 5))
        #expect(early.value == 1)
        #expect(late.stays(at: 0, seconds: 0.5))
        #expect(loop.queue.sync { later.isArmed })
        loop.queue.sync { later.disarm() }
        withExtendedLifetime((earlier, later)) {}
    }

    @Test("re-armed later while still filed, a timer waits for the new deadline; disarmed and re-armed, it fires once")
    func lazyRearm() {
        let loop = EventLoop(index: 25, tick: .milliseconds(10))
        defer { loop.shutdown() }
        let moved = EventCounter()
        let revived = EventCounter()
        let movedTimer = LoopTimer(loop: loop) { moved.record() }
        let revivedTimer = LoopTimer(loop: loop) { revived.record() }
        loop.queue.sync {
            movedTimer.arm(after: .milliseconds(50))
            movedTimer.arm(after: .milliseconds(400))
            revivedTimer.arm(after: .milliseconds(50))
            revivedTimer.disarm()
            revivedTimer.arm(after: .milliseconds(60))
        }
        // Its first tick passes at 50 ms; firing then would be 350 ms early.
        #expect(moved.stays(at: 0, seconds: 0.2))
        #expect(moved.wait(seconds: 5))
        #expect(revived.wait(seconds: 5))
        #expect(moved.stays(at: 1, seconds: 0.2))
        #expect(revived.value == 1)
        #expect(loop.queue.sync { !movedTimer.isArmed && !revivedTimer.isArmed })
        withExtendedLifetime((movedTimer, revivedTimer)) {}
    }

    @Test("a handler that disarms another timer due in the same tick keeps it from firing")
    func disarmedByEarlierHandler() {
        let loop = EventLoop(index: 26, tick: .milliseconds(10))
        defer { loop.shutdown() }
        let fired = EventCounter()
        let first = TimerHolder()
        let second = TimerHolder()
        loop.queue.sync {
            let a = LoopTimer(loop: loop) { [second] in
                fired.record()
                second.timer?.disarm()
            }
            let b = LoopTimer(loop: loop) { [first] in
                fired.record()
                first.timer?.disarm()
            }
            first.timer = a
            second.timer = b
            a.arm(after: .milliseconds(30))
            b.arm(after: .milliseconds(30))
        }
        #expect(fired.wait(seconds: 5))
        #expect(fired.stays(at: 1, seconds: 0.3))
        loop.queue.sync {
            first.timer = nil
            second.timer = nil
        }
    }

    @Test("timers fire in deadline order, whatever order they were armed in")
    func ordering() {
        let loop = EventLoop(index: 23)
        defer { loop.shutdown() }
        let order = Recorder<String>()
        let done = EventCounter()
        let names = ["300ms", "100ms", "200ms"]
        let timers = names.map { name in
            LoopTimer(loop: loop) {
                order.append(name)
                done.record()
            }
        }
        loop.queue.sync {
            timers[0].arm(after: .milliseconds(300))
            timers[1].arm(after: .milliseconds(100))
            timers[2].arm(after: .milliseconds(200))
        }
        #expect(done.wait(until: 3, seconds: 10))
        #expect(order.all == ["100ms", "200ms", "300ms"])
        withExtendedLifetime(timers) {}
    }

    @Test("a timer can re-arm itself from its handler")
    func rearmFromHandler() {
        let loop = EventLoop(index: 24, tick: .milliseconds(10))
        defer { loop.shutdown() }
        let fired = EventCounter()
        let holder = TimerHolder()
        loop.queue.sync {
            let t = LoopTimer(loop: loop) { [holder] in
                fired.record()
                if fired.value < 3 { holder.timer?.arm(after: .milliseconds(20)) }
            }
            holder.timer = t
            t.arm(after: .milliseconds(20))
        }
        #expect(fired.wait(until: 3, seconds: 5))
        #expect(fired.stays(at: 3, seconds: 0.3))
        loop.queue.sync { holder.timer = nil }
    }
}

/// Holds a timer for a handler that re-arms it (the handler must not own the timer strongly).
final class TimerHolder: @unchecked Sendable {
    var timer: LoopTimer?
}
