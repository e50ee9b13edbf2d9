#if canImport(Glibc)
import Glibc
#endif
import GatewayCore

/// Decides what a listener does after `accept` failed: take the next connection, or rest before trying again.
///
/// The listening socket's read source is level-triggered: while connections wait in the backlog it fires again at
/// once, so a failure that the next `accept` will repeat (no descriptor or memory left) must stop the watching for
/// a while, or the loop spins a core and starves everything queued behind it (nginx disables its accept events
/// for the same reason). Kept apart from sockets so the decision can be tested on its own with a fake clock.
public struct AcceptBackoff: Sendable {
    /// What to do after one failed `accept`.
    public enum Decision: Equatable, Sendable {
        /// The failure belonged to that one connection (reset or refused before it was taken): take the next one.
        case acceptNext
        /// Stop watching the socket for `nanos`, then try again; `report` is set when a warning is due.
        case pause(nanos: UInt64, report: Report?)
    }

    /// What a warning about pauses says: the error that caused the latest one, and how many there were since the
    /// last warning (this one included), so the once-a-second limit hides how often, not whether, it happened.
    public struct Report: Equatable, Sendable {
        public let errno: Int32
        public let pauses: Int

        public init(errno: Int32, pauses: Int) {
            self.errno = errno
            self.pauses = pauses
        }
    }

    /// How long accepting rests: long enough that a spinning source costs nothing, short enough that a freed
    /// descriptor is used before clients notice (nginx waits 500 ms; a connection closing frees one at once here).
    public let pauseNanos: UInt64
    /// Warnings at most once per interval: a descriptor shortage lasting minutes must not flood the log.
    private var reports: RepeatedWarningLimiter

    public init(pauseNanos: UInt64 = 100_000_000, reportIntervalNanos: UInt64 = 1_000_000_000) {
        self.pauseNanos = pauseNanos
        reports = RepeatedWarningLimiter(intervalNanos: reportIntervalNanos)
    }

    /// The decision for an `accept` that failed with `errno` at monotonic time `now`.
    public mutating func decide(errno: Int32, now: UInt64) -> Decision {
        if Self.isPerConnection(errno) { return .acceptNext }
        // Out of descriptors or memory, and anything unforeseen: the next call would fail alike, so rest. An
        // unknown error resting too is the safe side: a wrong guess costs 100 ms of accepting, not a core.
        let report = reports.occurred(now: now).map { Report(errno: errno, pauses: $0) }
        return .pause(nanos: pauseNanos, report: report)
    }

    /// Errors `accept` passes on from the one connection it dequeued (accept(2): Linux reports a pending network
    /// error there, and the man page says to treat them like EAGAIN and go on); EPERM is a firewall refusing it.
    static func isPerConnection(_ e: Int32) -> Bool {
        switch e {
        case ECONNABORTED, EPROTO, EPERM, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH:
            return true
        default:
            return false
        }
    }
}
