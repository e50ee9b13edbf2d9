import GatewayCore
import Synchronization

/// How many connections to one upstream server are open in this process (connecting, busy or idle, on any loop),
/// bounded by `upstreams[].max_connections`, and how many exchanges wait for one.
///
/// Shared by the pools of every loop: taking and giving back a unit are single atomic operations, so the common case
/// (room left) costs no lock. One budget per pool key, kept for the life of the process like the key's number, so
/// connections opened under an older config are still counted after a reload.
final class ServerBudget: Sendable {
    private let open = Atomic<Int>(0)
    private let queued = Atomic<Int>(0)

    /// Takes one unit when fewer than `limit` are out.
    func tryAcquire(limit: Int) -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < limit {
            let (done, seen) = open.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if done { return true }
            current = seen
        }
        return false
    }

    /// Gives a unit back; true when exchanges wait for one (the caller wakes them).
    func release() -> Bool {
        open.subtract(1, ordering: .relaxed)
        return queued.load(ordering: .relaxed) > 0
    }

    /// Connections counted now (for tests and metrics).
    var openCount: Int { open.load(ordering: .relaxed) }
    /// Exchanges waiting on any loop.
    var waitingCount: Int { queued.load(ordering: .relaxed) }

    func waiterAdded() { queued.add(1, ordering: .relaxed) }
    func waiterRemoved() { queued.subtract(1, ordering: .relaxed) }
}

/// The process's budgets, one per pool slot (see `PoolSlots`), made as configs name new servers.
enum ServerBudgets {
    private static let table = Locked([Int: ServerBudget]())

    static func budget(forSlot slot: Int) -> ServerBudget {
        table.withLock { t in
            if let b = t[slot] { return b }
            let b = ServerBudget()
            t[slot] = b
            return b
        }
    }
}
