import GatewayCore
import Testing

@Suite("ManualClock")
struct ManualClockTests {
    @Test("starts where told and stands still")
    func startsStill() {
        let clock = ManualClock(wallSeconds: 1_000, monotonicNanos: 5)
        #expect(clock.wallSeconds() == 1_000)
        #expect(clock.monotonicNanos() == 5)
        #expect(clock.wallMilliseconds() == 1_000_000)
        #expect(clock.wallSeconds() == 1_000)
        let defaults = ManualClock()
        #expect(defaults.wallSeconds() == 1_700_000_000)
        #expect(defaults.monotonicNanos() == 1_000_000_000)
    }

    @Test("advance(seconds:) moves both clocks")
    func advanceSeconds() {
        let clock = ManualClock(wallSeconds: 100, monotonicNanos: 1_000_000_000)
        clock.advance(seconds: 5)
        #expect(clock.wallSeconds() == 105)
        #expect(clock.monotonicNanos() == 6_000_000_000)
        // Going back moves wall time only: the monotonic clock never runs backwards.
        clock.advance(seconds: -3)
        #expect(clock.wallSeconds() == 102)
        #expect(clock.monotonicNanos() == 6_000_000_000)
    }

    @Test("advance(nanos:) moves the monotonic clock; wall time follows in whole seconds")
    func advanceNanos() {
        let clock = ManualClock(wallSeconds: 100, monotonicNanos: 1_000_000_000)
        clock.advance(nanos: 1_500_000_000)
        #expect(clock.monotonicNanos() == 2_500_000_000)
        #expect(clock.wallSeconds() == 101)
        clock.advance(nanos: 400_000_000)
        #expect(clock.monotonicNanos() == 2_900_000_000)
        #expect(clock.wallSeconds() == 101)
        clock.advance(nanos: 200_000_000)
        #expect(clock.monotonicNanos() == 3_100_000_000)
        #expect(clock.wallSeconds() == 102)
        clock.advance(nanos: 7)
        #expect(clock.monotonicNanos() == 3_100_000_007)
        #expect(clock.wallSeconds() == 102)
    }

    @Test("set(wallSeconds:) leaves the monotonic clock alone")
    func setWall() {
        let clock = ManualClock(wallSeconds: 100, monotonicNanos: 42)
        clock.set(wallSeconds: 50)
        #expect(clock.wallSeconds() == 50)
        #expect(clock.monotonicNanos() == 42)
    }

    @Test("the system clock moves forward")
    func systemClock() {
        let clock = SystemClock()
        let a = clock.monotonicNanos()
        let b = clock.monotonicNanos()
        #expect(b >= a)
        // Well after 2023-11 and consistent between the two wall readings.
        #expect(clock.wallSeconds() > 1_700_000_000)
        #expect(abs(clock.wallMilliseconds() / 1000 - clock.wallSeconds()) <= 1)
    }
}
