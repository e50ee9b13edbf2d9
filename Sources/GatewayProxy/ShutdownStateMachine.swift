import GatewayCore

/// The stop signals' lifecycle as a value: running, the readiness grace (`/readyz` 503, all else served), the drain.
///
/// A second stop signal during the grace starts the drain at once: an operator (or an orchestrator escalating)
/// who signals again wants the process gone, and the drain still finishes what is in flight.
struct ShutdownStateMachine: Equatable {
    enum State: Equatable {
        case running
        /// `/readyz` fails; listeners and connections are served as usual until the grace ends.
        case grace
        case draining
    }

    enum Action: Equatable {
        /// Fail readiness now and come back with `graceEnded()` after this long.
        case startGrace(TimeSpan)
        /// Stop accepting and drain (readiness fails too).
        case startDrain
        case none
    }

    private(set) var state: State = .running

    /// SIGTERM or SIGINT arrived; `grace` is `shutdown.readiness_grace`.
    mutating func stopSignal(grace: TimeSpan) -> Action {
        switch state {
        case .running:
            if grace.nanoseconds > 0 {
                state = .grace
                return .startGrace(grace)
            }
            state = .draining
            return .startDrain
        case .grace:
            state = .draining
            return .startDrain
        case .draining:
            return .none
        }
    }

    /// The grace timer ran out; nothing to do if a second signal already started the drain.
    mutating func graceEnded() -> Action {
        guard state == .grace else { return .none }
        state = .draining
        return .startDrain
    }
}
