import GatewayCore

/// The objects that debug builds count per loop, so tests can check that every reference cycle between them (a
/// stream and its connection, a connection and its transport's callbacks) is broken once the traffic is gone.
enum LiveKind: String, Sendable {
    case http1Connection, http2Connection, http2Stream, exchange, upstreamConnection
}

/// Counts its owner among its loop's live objects for as long as the owner lives: a stored property, set in the
/// owner's init. Debug builds only; in release builds it is empty and does nothing.
struct LiveToken: ~Copyable {
    #if DEBUG
    private let counts: LiveObjects
    private let kind: LiveKind

    init(_ loopState: LoopState, _ kind: LiveKind) {
        counts = loopState.live
        self.kind = kind
        counts.add(kind, 1)
    }

    deinit { counts.add(kind, -1) }
    #else
    @inline(__always)
    init(_ loopState: LoopState, _ kind: LiveKind) {}
    #endif
}

#if DEBUG
/// A loop's live-object counts (debug builds).
final class LiveObjects: Sendable {
    private let counts = Locked<[LiveKind: Int]>([:])

    func add(_ kind: LiveKind, _ delta: Int) { counts.withLock { $0[kind, default: 0] += delta } }

    var current: [LiveKind: Int] { counts.withLock { $0 } }
}

extension GatewayServer {
    /// Debug builds: objects of each kind alive across the loops (`http2Stream`, `exchange`...); kinds at zero omitted.
    public func liveObjects() -> [String: Int] {
        var total: [String: Int] = [:]
        for state in loopStates {
            for (kind, n) in state.live.current where n != 0 { total[kind.rawValue, default: 0] += n }
        }
        return total
    }
}
#endif
