/// Decides when a warning about something that keeps happening may be logged again: at most once per interval,
/// carrying how many times it happened since the last line (the first occurrence is logged at once).
///
/// A value driven by the caller's clock (monotonic nanoseconds), so the limit can be tested without waiting.
public struct RepeatedWarningLimiter: Equatable, Sendable {
    public let intervalNanos: UInt64
    /// Occurrences not yet reported in a warning.
    public private(set) var pending = 0
    /// The earliest time the next warning may go out; nil until the first one (a loop clock may read 0).
    public private(set) var nextDue: UInt64?

    public init(intervalNanos: UInt64 = 1_000_000_000) {
        self.intervalNanos = intervalNanos
    }

    /// One more occurrence at `now`: the count to report when a warning is due now, nil while it is held back.
    public mutating func occurred(now: UInt64) -> Int? {
        pending += 1
        if let due = nextDue, now < due { return nil }
        nextDue = now &+ intervalNanos
        defer { pending = 0 }
        return pending
    }
}
