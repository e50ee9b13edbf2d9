#if DEBUG
import Synchronization

/// Debug builds count the connection, stream and exchange objects alive on a loop, so tests can check that every
/// reference cycle between them (a stream and its connection, a connection and its transport's callbacks) is broken
/// once the traffic is gone. Release builds have none of this.
final class LiveObjects: Sendable {
    enum Kind: String, Sendable, CaseIterable {
        case http1Connection, http2Connection, http2Stream, exchange, upstreamConnection
    }

    private let counts = Mutex<[Kind: Int]>([:])

    func add(_ kind: Kind, _ delta: Int) { counts.withLock { $0[kind, default: 0] += delta } }

    var current: [Kind: Int] { counts.withLock { $0 } }
}

extension GatewayServer {
    /// Debug builds: objects of each kind alive across the loops (`http2Stream`, `exchange`...); kinds at zero omitted.
    public func liveObjects() -> [String: Int] {
        var total: [String: Int] = [:]
        for state in loopStatesForTesting {
            for (kind, n) in state.live.current where n != 0 { total[kind.rawValue, default: 0] += n }
        }
        return total
    }
}
#endif
