import GatewayCore
import GatewayLoop

/// Redis Cluster from one loop: the slot map from `CLUSTER SLOTS`, each key sent to its slot's master (one pipelined
/// connection per master), `MOVED` patches the map and asks for a fresh one, `ASK` is followed with `ASKING`.
final class RedisClusterRouter: RedisTopology {
    private let seeds: [RedisNodeAddress]
    private let factory: RedisConnectionFactory
    private var map = RedisSlotMap()
    private var connections: [RedisNodeAddress: RedisNodeConnection] = [:]
    private var refreshing = false
    /// A refresh was asked for while one ran (the map it brings may predate the news).
    private var refreshAgain = false
    /// Callers waiting for a map: true when one came, false when no node gave one.
    private var waitingForMap: [(Bool) -> Void] = []
    /// Redirects one command may follow; a cluster that keeps redirecting is being resharded faster than it answers.
    static let maxRedirects = 5
    static let refreshIntervalNanos: UInt64 = 100_000_000
    private var lastRefreshNanos: UInt64 = 0

    init(seeds: [RedisNodeAddress], factory: RedisConnectionFactory) {
        self.seeds = seeds
        self.factory = factory
    }

    /// Masters the current map knows (for tests).
    var masters: [RedisNodeAddress] { map.masters }

    var writeCount: Int { connections.values.reduce(0) { $0 + $1.writeCount } }

    func send(_ args: [[UInt8]], key: [UInt8], completion: @escaping RedisNodeConnection.Completion) {
        route(args, key: key, redirects: 0, completion: completion)
    }

    func ping(completion: @escaping (Bool) -> Void) {
        guard !map.isEmpty else {
            waitForMap { [weak self] ok in
                guard let self, ok else { return completion(false) }
                pingMasters(completion)
            }
            return
        }
        pingMasters(completion)
    }

    private func pingMasters(_ completion: @escaping (Bool) -> Void) {
        let masters = map.masters
        guard map.coversAllSlots, !masters.isEmpty else {
            completion(false)
            return
        }
        var left = masters.count
        var allUp = true
        for node in masters {
            connection(node).send(RedisRouter.pingCommand) { result in
                if result != .success(.status("PONG")) { allUp = false }
                left -= 1
                if left == 0 { completion(allUp) }
            }
        }
    }

    private func route(_ args: [[UInt8]], key: [UInt8], redirects: Int, completion: @escaping RedisNodeConnection.Completion) {
        guard !map.isEmpty else {
            waitForMap { [weak self] ok in
                guard let self else { return completion(.failure(.connection)) }
                if ok { route(args, key: key, redirects: redirects, completion: completion) } else { completion(.failure(.connection)) }
            }
            return
        }
        guard let node = map.master(forKey: key) else {
            // No master serves the slot (the cluster is down for it); a newer map may know one.
            refresh()
            completion(.failure(.connection))
            return
        }
        connection(node).send(args) { [weak self] result in
            guard let self else { return completion(result) }
            replied(result, from: node, args: args, key: key, redirects: redirects, completion: completion)
        }
    }

    private func replied(_ result: Result<RedisReply, RedisFault>, from node: RedisNodeAddress, args: [[UInt8]], key: [UInt8],
                         redirects: Int, completion: @escaping RedisNodeConnection.Completion) {
        switch result {
        case .success(let reply):
            if let redirect = RedisRedirect(reply: reply, from: node) {
                guard redirects < Self.maxRedirects else {
                    completion(result)
                    return
                }
                switch redirect {
                case .moved(let slot, let target):
                    // The slot lives elsewhere now: patch the map at once, and learn what else moved.
                    map.assign(slot: slot, to: target)
                    refresh()
                    route(args, key: key, redirects: redirects + 1, completion: completion)
                case .ask(_, let target):
                    // Being migrated, and this key already moved: ask there once, without changing the map.
                    let c = connection(target)
                    c.send([Array("ASKING".utf8)]) { _ in }
                    c.send(args) { [weak self] result in
                        guard let self else { return completion(result) }
                        replied(result, from: target, args: args, key: key, redirects: redirects + 1, completion: completion)
                    }
                }
                return
            }
            if RedisErrorKind(reply: reply)?.needsRediscovery == true { refresh() }
        case .failure:
            // A master that fails may have been replaced by its replica.
            refresh()
        }
        completion(result)
    }

    func shutdown() {
        for c in connections.values { c.close() }
        connections = [:]
    }

    private func connection(_ node: RedisNodeAddress) -> RedisNodeConnection {
        if let c = connections[node] { return c }
        let c = factory.data(node)
        connections[node] = c
        return c
    }

    private func waitForMap(_ then: @escaping (Bool) -> Void) {
        waitingForMap.append(then)
        refresh()
    }

    /// Asks the known masters, then the seeds, for `CLUSTER SLOTS`, one at a time until one answers. Without a
    /// caller waiting for the map, at most one refresh per `refreshIntervalNanos` (failures and `MOVED` replies
    /// come in bursts; the map is patched by each `MOVED` meanwhile).
    func refresh() {
        guard !refreshing else {
            refreshAgain = true
            return
        }
        let now = factory.loop.now()
        if waitingForMap.isEmpty && lastRefreshNanos != 0 && now &- lastRefreshNanos < Self.refreshIntervalNanos { return }
        lastRefreshNanos = now
        refreshing = true
        refreshAgain = false
        var candidates = map.masters
        for s in seeds where !candidates.contains(s) { candidates.append(s) }
        ask(candidates, 0)
    }

    private func ask(_ candidates: [RedisNodeAddress], _ i: Int) {
        guard i < candidates.count else {
            refreshed(nil)
            return
        }
        let node = candidates[i]
        connection(node).send([Array("CLUSTER".utf8), Array("SLOTS".utf8)]) { [weak self] result in
            guard let self else { return }
            if case .success(let reply) = result, let m = try? RedisSlotMap(clusterSlotsReply: reply, from: node),
               !m.isEmpty {
                refreshed(m)
            } else {
                ask(candidates, i + 1)
            }
        }
    }

    private func refreshed(_ newMap: RedisSlotMap?) {
        refreshing = false
        if let newMap {
            map = newMap
            // Connections to nodes that serve nothing now and wait for nothing go.
            let masters = newMap.masters
            for (node, c) in connections where !masters.contains(node) && !seeds.contains(node) && c.outstanding == 0 {
                c.close()
                connections[node] = nil
            }
        }
        let waiting = waitingForMap
        waitingForMap = []
        for w in waiting { w(newMap != nil) }
        if refreshAgain { refresh() }
    }
}
