import GatewayCore
import GatewayLoop

/// Per loop: keep-alive connections to each upstream server, round robin over servers, resting failed ones, and
/// the exchanges of this loop waiting for a connection under a server's `max_connections`.
final class UpstreamPool {
    /// An exchange queued for a connection to one server of its target.
    private struct Waiter {
        let exchange: ProxyExchange
        let target: UpstreamTarget
        let server: Int
        let timer: LoopTimer
    }

    private struct ServerState {
        var idle: [UpstreamConnection] = []
        var restingUntil: UInt64 = 0
        var waiters: [Waiter] = []
    }

    unowned let loop: EventLoop
    /// Indexed by pool slot (`PoolSlots`); grown as slots are first used.
    private var servers: [ServerState] = []
    private var roundRobin: [String: Int] = [:]
    /// The pool slots the loop's current snapshot uses (nil: not known yet, all are). A connection to any other
    /// slot (an address its name no longer resolves to, a server a reload dropped) is closed instead of parked.
    private var liveSlots: Set<Int>?
    /// How long a server that refused a connection is skipped.
    let restNanos: UInt64 = 10_000_000_000

    init(loop: EventLoop) { self.loop = loop }

    /// Picks the next server of `target` that is not resting (or the least recently failed when all rest).
    func pickServer(_ target: UpstreamTarget, excluding tried: TriedServers) -> Int? {
        let n = target.servers.count
        guard n > 0 else { return nil }
        // One server: it is the answer whether it rests or not, and there is no rotation to keep.
        if n == 1 { return tried.contains(0) ? nil : 0 }
        var rr = roundRobin[target.name, default: 0]
        let now = loop.now()
        var fallback: Int?
        for _ in 0..<n {
            let i = rr % n
            rr &+= 1
            if tried.contains(i) { continue }
            let slot = target.poolSlots[i]
            if slot >= servers.count || servers[slot].restingUntil <= now {
                roundRobin[target.name] = rr
                return i
            }
            if fallback == nil { fallback = i }
        }
        roundRobin[target.name] = rr
        return fallback
    }

    private func ensure(_ slot: Int) {
        if slot >= servers.count { servers.append(contentsOf: repeatElement(ServerState(), count: slot - servers.count + 1)) }
    }

    func markFailed(slot: Int) {
        ensure(slot)
        servers[slot].restingUntil = loop.now() &+ restNanos
    }

    func markHealthy(slot: Int) {
        if slot < servers.count && servers[slot].restingUntil != 0 { servers[slot].restingUntil = 0 }
    }

    /// A live idle connection to the server, most recently used first.
    func takeIdle(slot: Int) -> UpstreamConnection? {
        guard slot < servers.count else { return nil }
        // Popped in place (no copy of the server state).
        while let c = servers[slot].idle.popLast() {
            if c.isUsableIdle { return c }
            c.close()
        }
        return nil
    }

    /// Parks a connection whose response was read to the end; closes it when the pool is full.
    func park(_ c: UpstreamConnection, maxIdle: Int, idleTimeout: TimeSpan) {
        // The exchange that just finished is still attached here, so `isUsableIdle` (meant for taking) does not apply.
        let slot = c.serverSlot
        let localWaiters = slot < servers.count && !servers[slot].waiters.isEmpty
        // Exchanges of other loops wait for this server and none here: an idle connection kept here would hold their
        // unit of the budget, so it closes and lets one of them connect.
        let othersWait = !localWaiters && c.budget.waitingCount > 0
        let live = liveSlots?.contains(slot) ?? true
        guard live, (slot < servers.count ? servers[slot].idle.count : 0) < maxIdle, c.canReuse, !othersWait else {
            c.close()
            return
        }
        ensure(slot)
        // Mutated in place: a copied-out state would copy the whole idle array on every park.
        servers[slot].idle.append(c)
        c.becomeIdle(pool: self, timeout: idleTimeout)
        if localWaiters { scheduleServe(slot: slot) }
    }

    /// Takes in a fresh connection nobody waits for any more (its exchange ended during the connect): idle, for
    /// the next exchange, under the same rules as a parked one.
    func adopt(_ c: UpstreamConnection, maxIdle: Int, idleTimeout: TimeSpan) {
        c.markFresh()
        park(c, maxIdle: maxIdle, idleTimeout: idleTimeout)
    }

    // MARK: waiting for a connection

    /// Queues `exchange` until a connection to `server` of `target` frees up (here, or a unit of its budget
    /// anywhere), or `queue_timeout` passes.
    func enqueue(_ exchange: ProxyExchange, target: UpstreamTarget, server: Int) {
        let slot = target.poolSlots[server]
        ensure(slot)
        let me = UnsafeTransfer(self)
        let ex = UnsafeTransfer(exchange)
        let timer = LoopTimer(loop: loop) { me.value.waitTimedOut(ex.value, slot: slot) }
        timer.arm(after: target.queueTimeout)
        servers[slot].waiters.append(Waiter(exchange: exchange, target: target, server: server, timer: timer))
        target.budgets[server].waiterAdded()
    }

    /// Takes `exchange` out of the queue (it ended while waiting).
    func cancelWait(_ exchange: ProxyExchange, slot: Int) {
        guard slot < servers.count, let i = servers[slot].waiters.firstIndex(where: { $0.exchange === exchange }) else { return }
        let w = servers[slot].waiters.remove(at: i)
        w.timer.disarm()
        w.target.budgets[w.server].waiterRemoved()
    }

    private func waitTimedOut(_ exchange: ProxyExchange, slot: Int) {
        guard slot < servers.count, let i = servers[slot].waiters.firstIndex(where: { $0.exchange === exchange }) else { return }
        let w = servers[slot].waiters.remove(at: i)
        w.target.budgets[w.server].waiterRemoved()
        exchange.queueTimedOut()
    }

    private var serveScheduled = Set<Int>()

    /// Serves the slot's waiters on a later turn of the loop (never inside the exchange that freed a connection).
    func scheduleServe(slot: Int) {
        guard serveScheduled.insert(slot).inserted else { return }
        let me = UnsafeTransfer(self)
        loop.execute { me.value.serveWaiters(slot: slot) }
    }

    /// Hands idle connections, then free units of the budget, to the slot's waiters in arrival order.
    func serveWaiters(slot: Int) {
        serveScheduled.remove(slot)
        while slot < servers.count, let w = servers[slot].waiters.first {
            if let c = takeIdle(slot: slot) {
                servers[slot].waiters.removeFirst()
                w.timer.disarm()
                w.target.budgets[w.server].waiterRemoved()
                w.exchange.waitEnded(server: w.server, idle: c)
            } else if w.target.budgets[w.server].tryAcquire(limit: w.target.maxConnections) {
                servers[slot].waiters.removeFirst()
                w.timer.disarm()
                w.target.budgets[w.server].waiterRemoved()
                w.exchange.waitEnded(server: w.server, idle: nil)
            } else {
                return
            }
        }
    }

    /// Closes one idle connection to the slot, giving its unit of the budget to a waiter of another loop.
    func closeOneIdle(slot: Int) {
        guard slot < servers.count, servers[slot].waiters.isEmpty, let c = servers[slot].idle.popLast() else { return }
        c.close()
    }

    /// Forgets an idle connection that closed or timed out.
    func evict(_ c: UpstreamConnection) {
        let slot = c.serverSlot
        guard slot < servers.count, let i = servers[slot].idle.firstIndex(where: { $0 === c }) else { return }
        servers[slot].idle.remove(at: i)
    }

    /// A new snapshot is serving: idle connections to slots it no longer uses close now, busy ones when they finish.
    func retainOnly(slots: Set<Int>) {
        liveSlots = slots
        for i in servers.indices where !slots.contains(i) && !servers[i].idle.isEmpty {
            let idle = servers[i].idle
            servers[i].idle.removeAll()
            for c in idle { c.close() }
        }
    }

    func closeAllIdle() {
        for i in servers.indices {
            let idle = servers[i].idle
            servers[i].idle.removeAll()
            for c in idle { c.close() }
        }
    }
}
