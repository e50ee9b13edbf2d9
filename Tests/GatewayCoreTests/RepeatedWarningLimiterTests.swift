import Testing
import GatewayCore

/// The once-a-second limit of repeated warnings (the unchecked-admit and accept-pause warnings), on explicit times.
@Suite struct RepeatedWarningLimiterTests {
    static let second: UInt64 = 1_000_000_000

    @Test func theFirstOccurrenceWarnsAtOnce() {
        var limiter = RepeatedWarningLimiter()
        #expect(limiter.occurred(now: 5 * Self.second) == 1)
        #expect(limiter.pending == 0)
    }

    @Test func atMostOneWarningASecondCarryingTheCountSinceTheLast() {
        var limiter = RepeatedWarningLimiter()
        let t0 = 7 * Self.second
        #expect(limiter.occurred(now: t0) == 1)
        // Held back for the rest of the second, however many occur.
        for i in 1...999 {
            #expect(limiter.occurred(now: t0 + UInt64(i) * 1_000_000) == nil)
        }
        #expect(limiter.pending == 999)
        // One second after the last warning: the next occurrence reports all 1000 since then.
        #expect(limiter.occurred(now: t0 + Self.second) == 1000)
        #expect(limiter.occurred(now: t0 + Self.second + 1) == nil)
        #expect(limiter.occurred(now: t0 + 2 * Self.second - 1) == nil)
        #expect(limiter.occurred(now: t0 + 2 * Self.second) == 3)
    }

    @Test func aQuietSpellWarnsAgainAtTheNextOccurrence() {
        var limiter = RepeatedWarningLimiter()
        #expect(limiter.occurred(now: Self.second) == 1)
        #expect(limiter.occurred(now: Self.second + 10) == nil)
        // Long after: warned at once, with the one held back before the quiet spell included.
        #expect(limiter.occurred(now: 60 * Self.second) == 2)
    }

    @Test func aLoopClockAtZeroStillWarnsFirst() {
        var limiter = RepeatedWarningLimiter(intervalNanos: 10)
        #expect(limiter.occurred(now: 0) == 1)
        #expect(limiter.occurred(now: 9) == nil)
        #expect(limiter.occurred(now: 10) == 2)
    }
}
