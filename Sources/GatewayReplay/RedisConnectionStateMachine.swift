/// The lifecycle of one Redis connection on a loop, as a value: what a command, a connect, a login reply, a failure
/// or the timer mean in each state. `RedisNodeConnection` carries the actions out; the machine holds no socket and
/// reads no clock (times come in as arguments), so every transition is testable without one.
struct RedisConnectionStateMachine: Equatable {
    enum State: Equatable {
        /// No connection, none being made: the next command starts one.
        case idle
        /// TCP connect (and TLS handshake) in flight; commands wait unwritten.
        case connecting
        /// Login commands (`AUTH`, `SELECT`) written; `remaining` replies to check. Commands go out behind them.
        case loggingIn(remaining: Int)
        case ready
        /// The last connection failed: commands fail at once until `until` (monotonic ns), then one reconnects.
        case backingOff(until: UInt64)
    }

    private(set) var state: State = .idle
    /// Failures since the last connection that answered a command; the backoff doubles with each.
    private(set) var consecutiveFailures = 0
    let backoffBaseNanos: UInt64
    let backoffCapNanos: UInt64

    init(backoffBaseNanos: UInt64 = 25_000_000, backoffCapNanos: UInt64 = 2_000_000_000) {
        self.backoffBaseNanos = backoffBaseNanos
        self.backoffCapNanos = backoffCapNanos
    }

    enum SendAction: Equatable {
        /// Start connecting, and keep the command until the connection is up.
        case connectAndHold
        /// Keep it: a connect is in flight.
        case hold
        /// Write it with this batch's other commands.
        case write
        /// Answer it `unavailable` now: the store is backing off.
        case failFast
    }

    /// A command arrives at `now`.
    mutating func send(now: UInt64) -> SendAction {
        switch state {
        case .idle:
            state = .connecting
            return .connectAndHold
        case .backingOff(let until):
            guard now >= until else { return .failFast }
            state = .connecting
            return .connectAndHold
        case .connecting: return .hold
        case .loggingIn, .ready: return .write
        }
    }

    enum ConnectedAction: Equatable {
        /// Write the login commands, then what was held, in one write.
        case loginThenWrite
        /// No login needed: write what was held.
        case write
        /// The connect finished after the machine gave up on it (timeout): close it.
        case close
    }

    /// The socket (and TLS) is up; `loginSteps` commands must answer `+OK` first.
    mutating func connected(loginSteps: Int) -> ConnectedAction {
        guard state == .connecting else { return .close }
        if loginSteps > 0 {
            state = .loggingIn(remaining: loginSteps)
            return .loginThenWrite
        }
        state = .ready
        return .write
    }

    enum LoginAction: Equatable {
        case wait
        case ready
        /// Refused (wrong password, unknown db): everything fails, the connection closes, backoff until this time.
        case fail(backoffUntil: UInt64)
    }

    /// A login command answered; `ok` when it was `+OK`.
    mutating func loginReplied(ok: Bool, now: UInt64, jitter: Double) -> LoginAction {
        guard case .loggingIn(let remaining) = state else { return .wait }
        guard ok else { return .fail(backoffUntil: failed(now: now, jitter: jitter)) }
        if remaining <= 1 {
            state = .ready
            return .ready
        }
        state = .loggingIn(remaining: remaining - 1)
        return .wait
    }

    /// A command got its reply: the connection works, so the next failure starts the backoff over.
    mutating func answered() { consecutiveFailures = 0 }

    /// The connection failed (connect refused, reset, EOF, timeout, unreadable reply) at `now`: returns the time
    /// until which commands fail at once. `jitter` in 0...1 spreads the reconnects of many loops and gateways.
    @discardableResult
    mutating func failed(now: UInt64, jitter: Double) -> UInt64 {
        let shift = UInt64(min(consecutiveFailures, 16))
        consecutiveFailures += 1
        let full = min(backoffCapNanos, backoffBaseNanos << shift)
        // Between half and all of the full delay.
        let delay = full / 2 + UInt64(Double(full / 2) * min(1, max(0, jitter)))
        let until = now &+ delay
        state = .backingOff(until: until)
        return until
    }
}
