#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The source of time for everything that checks a deadline or a token: injected so tests can hold time still.
public protocol Clock: Sendable {
    /// Seconds since the Unix epoch (token claims are compared against this).
    func wallSeconds() -> Int64
    /// Monotonic nanoseconds from an arbitrary origin (timeouts and durations).
    func monotonicNanos() -> UInt64
    /// Milliseconds since the Unix epoch (log timestamps).
    func wallMilliseconds() -> Int64
}

extension Clock {
    public func wallMilliseconds() -> Int64 { wallSeconds() &* 1000 }
}

/// The real clock: `CLOCK_REALTIME` for claims, `CLOCK_MONOTONIC` for deadlines.
public struct SystemClock: Clock {
    public init() {}

    public func wallSeconds() -> Int64 {
        var ts = timespec()
        // Claims are whole seconds: the coarse clock (last tick, a few ms behind) is a plain memory read in the vDSO,
        // where the precise one reads the TSC; the verdict cache asks on every request.
        #if os(Linux)
        clock_gettime(CLOCK_REALTIME_COARSE, &ts)
        #else
        clock_gettime(CLOCK_REALTIME, &ts)
        #endif
        return Int64(ts.tv_sec)
    }

    public func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    public func wallMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1000 &+ Int64(ts.tv_nsec / 1_000_000)
    }
}

/// A clock that only moves when told to; for tests.
public final class ManualClock: Clock {
    private let state: Locked<(wall: Int64, mono: UInt64)>

    public init(wallSeconds: Int64 = 1_700_000_000, monotonicNanos: UInt64 = 1_000_000_000) {
        state = Locked((wallSeconds, monotonicNanos))
    }

    public func wallSeconds() -> Int64 { state.withLock { $0.wall } }
    public func monotonicNanos() -> UInt64 { state.withLock { $0.mono } }

    /// Moves both clocks forward by `seconds`.
    public func advance(seconds: Int64) {
        state.withLock { s in
            s.wall += seconds
            s.mono &+= UInt64(max(0, seconds)) &* 1_000_000_000
        }
    }

    /// Moves the monotonic clock forward by `nanos` (wall time follows in whole seconds).
    public func advance(nanos: UInt64) {
        state.withLock { s in
            let before = s.mono / 1_000_000_000
            s.mono &+= nanos
            s.wall += Int64(s.mono / 1_000_000_000 - before)
        }
    }

    public func set(wallSeconds: Int64) {
        state.withLock { $0.wall = wallSeconds }
    }
}
