import GatewayCore
import GatewayLoop

/// Per loop: keep-alive connections to each upstream server, round robin over servers, resting failed ones.
final class UpstreamPool {
    private struct ServerState {
        var idle: [UpstreamConnection] = []
        var restingUntil: UInt64 = 0
    }

    unowned let loop: EventLoop
    /// Indexed by pool slot (`PoolSlots`); grown as slots are first used.
    private var servers: [ServerState] = []
    private var roundRobin: [String: Int] = [:]
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
        guard (slot < servers.count ? servers[slot].idle.count : 0) < maxIdle, c.canReuse else {
            c.close()
            return
        }
        ensure(slot)
        // Mutated in place: a copied-out state would copy the whole idle array on every park.
        servers[slot].idle.append(c)
        c.becomeIdle(pool: self, timeout: idleTimeout)
    }

    /// Forgets an idle connection that closed or timed out.
    func evict(_ c: UpstreamConnection) {
        let slot = c.serverSlot
        guard slot < servers.count, let i = servers[slot].idle.firstIndex(where: { $0 === c }) else { return }
        servers[slot].idle.remove(at: i)
    }

    func closeAllIdle() {
        for i in servers.indices {
            let idle = servers[i].idle
            servers[i].idle.removeAll()
            for c in idle { c.close() }
        }
    }
}
