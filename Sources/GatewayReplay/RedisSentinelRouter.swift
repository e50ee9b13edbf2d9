import GatewayCore
import GatewayLoop

/// Redis behind Sentinel from one loop: the sentinels are asked for the master, which must confirm with `ROLE`
/// before any admit is sent to it (so an admit is never answered by a replica); `+switch-master` (subscribed on one
/// sentinel) and a lost connection or a `READONLY`-type error send the loop looking again.
final class RedisSentinelRouter: RedisTopology {
    private let sentinels: [RedisNodeAddress]
    private let masterName: [UInt8]
    private let factory: RedisConnectionFactory
    /// The confirmed master's connection; nil while none is known.
    private var master: RedisNodeConnection?
    private(set) var masterNode: RedisNodeAddress?
    private var discovering = false
    /// The master the latest `+switch-master` named: tried first (with `ROLE`), because the Sentinels asked in
    /// order may not have heard of the failover yet and still name the old master, which says master until demoted.
    private var announcedMaster: RedisNodeAddress?
    /// Bumped by each `+switch-master`: an answer to a query sent before it is stale and starts the discovery over.
    private var discoveryEpoch = 0
    /// Callers waiting for a master: true when one was confirmed, false when none could be.
    private var waiting: [(Bool) -> Void] = []
    /// After a discovery that found no master, commands fail at once until then (monotonic ns).
    private var retryAfter: UInt64 = 0
    /// A discovery fails every `retryNanos` per loop while the outage lasts: warn once a second, with a count.
    private var noMasterWarning = RepeatedWarningLimiter()
    private var sentinelConnections: [RedisNodeAddress: RedisNodeConnection] = [:]
    private var subscriber: RedisNodeConnection?
    private var nextSubscribeSentinel = 0
    private var resubscribeTimer: LoopTimer?
    static let retryNanos: UInt64 = 100_000_000
    static let resubscribeDelay = TimeSpan.seconds(1)

    init(sentinels: [RedisNodeAddress], masterName: String, factory: RedisConnectionFactory) {
        self.sentinels = sentinels
        self.masterName = Array(masterName.utf8)
        self.factory = factory
    }

    deinit {
        resubscribeTimer?.disarm()
    }

    var writeCount: Int { master?.writeCount ?? 0 }

    func send(_ args: [[UInt8]], key: [UInt8], completion: @escaping RedisNodeConnection.Completion) {
        guard let m = master else {
            withMaster { [weak self] ok in
                guard let self else { return completion(.failure(.connection)) }
                if ok { send(args, key: key, completion: completion) } else { completion(.failure(.connection)) }
            }
            return
        }
        m.send(args) { [weak self] result in
            guard let self else { return completion(result) }
            switch result {
            case .success(let reply):
                // A demoted master says READONLY; a master cut off from its replicas may refuse writes.
                if RedisErrorKind(reply: reply)?.needsRediscovery == true { lost(m) }
            case .failure:
                lost(m)
            }
            completion(result)
        }
    }

    func ping(completion: @escaping (Bool) -> Void) {
        guard let m = master else {
            withMaster { [weak self] ok in
                guard let self, ok else { return completion(false) }
                ping(completion: completion)
            }
            return
        }
        m.send(RedisRouter.pingCommand) { completion($0 == .success(.status("PONG"))) }
    }

    func shutdown() {
        resubscribeTimer?.disarm()
        subscriber?.onFailure = nil
        subscriber?.close()
        subscriber = nil
        master?.close()
        master = nil
        for c in sentinelConnections.values { c.close() }
        sentinelConnections = [:]
    }

    /// Runs `then` once a master is confirmed (or none can be).
    private func withMaster(_ then: @escaping (Bool) -> Void) {
        if !discovering && factory.loop.now() < retryAfter {
            then(false)
            return
        }
        waiting.append(then)
        discover()
    }

    /// The master connection failed or refused: look again (the next command waits for the answer).
    private func lost(_ m: RedisNodeConnection) {
        guard master === m else { return }
        master = nil
        masterNode = nil
        m.close()
    }

    private func discover() {
        guard !discovering else { return }
        discovering = true
        subscribe()
        startDiscovery()
    }

    /// The announced master first, if any, then the Sentinels in order.
    private func startDiscovery() {
        let epoch = discoveryEpoch
        if let node = announcedMaster {
            confirm(node, thenAsk: 0, epoch: epoch)
        } else {
            ask(0, epoch: epoch)
        }
    }

    private func ask(_ i: Int, epoch: Int) {
        guard i < sentinels.count else {
            found(nil, nil)
            return
        }
        let command: [[UInt8]] = [Array("SENTINEL".utf8), Array("get-master-addr-by-name".utf8), masterName]
        sentinel(sentinels[i]).send(command) { [weak self] result in
            guard let self else { return }
            guard epoch == discoveryEpoch else { return startDiscovery() }
            // `try?` flattens: nil for an unreadable reply and for a name the sentinel does not know.
            guard case .success(let reply) = result, let address = try? RedisSentinelReplies.masterAddress(reply) else {
                ask(i + 1, epoch: epoch)
                return
            }
            confirm(address, thenAsk: i + 1, epoch: epoch)
        }
    }

    /// Connects to `node` and asks it `ROLE`: only a master takes admits; otherwise the Sentinel `next` is asked.
    private func confirm(_ node: RedisNodeAddress, thenAsk next: Int, epoch: Int) {
        let c = factory.data(node)
        c.send([Array("ROLE".utf8)]) { [weak self] result in
            guard let self else { return }
            guard epoch == discoveryEpoch else {
                c.close()
                return startDiscovery()
            }
            if case .success(let reply) = result, let role = try? RedisSentinelReplies.role(reply), role.isMaster {
                found(c, node)
            } else {
                c.close()
                ask(next, epoch: epoch)
            }
        }
    }

    private func found(_ c: RedisNodeConnection?, _ node: RedisNodeAddress?) {
        discovering = false
        // Only the discovery the announcement started uses it: later ones trust the Sentinels again.
        announcedMaster = nil
        master = c
        masterNode = node
        if c == nil {
            let now = factory.loop.now()
            retryAfter = now &+ Self.retryNanos
            if let times = noMasterWarning.occurred(now: now) {
                factory.logger.warning("no sentinel named a reachable master", metadata: [
                    "master": "\(String(decoding: masterName, as: UTF8.self))",
                    "sentinels": "\(sentinels.map(\.description).joined(separator: ","))",
                    "times": "\(times)",
                ])
            }
        }
        let w = waiting
        waiting = []
        for f in w { f(c != nil) }
    }

    private func sentinel(_ node: RedisNodeAddress) -> RedisNodeConnection {
        if let c = sentinelConnections[node] { return c }
        let c = factory.sentinel(node)
        sentinelConnections[node] = c
        return c
    }

    // MARK: +switch-master

    /// Subscribes to `+switch-master` on one sentinel (the next one after a failure), once.
    private func subscribe() {
        guard subscriber == nil, !sentinels.isEmpty else { return }
        let node = sentinels[nextSubscribeSentinel % sentinels.count]
        nextSubscribeSentinel += 1
        let c = factory.sentinel(node)
        subscriber = c
        c.onPush = { [weak self] message in
            guard let self else { return }
            guard let s = try? RedisSentinelReplies.switchMaster(message), Array(s.name.utf8) == masterName else { return }
            switched(to: s.newMaster)
        }
        c.onFailure = { [weak self, unowned c] _ in
            // Resubscribe a little later (on the next sentinel): this one may be down.
            guard let self, subscriber === c else { return }
            subscriber = nil
            if resubscribeTimer == nil {
                resubscribeTimer = LoopTimer(loop: factory.loop) { [weak self] in self?.subscribe() }
            }
            resubscribeTimer?.arm(after: Self.resubscribeDelay)
        }
        c.send([Array("SUBSCRIBE".utf8), Array("+switch-master".utf8)]) { _ in }
    }

    /// The sentinels moved the master: drop the old one and confirm the new one before sending more. The new one is
    /// asked directly (a discovery under way restarts), not through the Sentinels in order: one that has not heard of
    /// the failover yet names the old master, and that still says `ROLE` master until it is demoted.
    private func switched(to node: RedisNodeAddress) {
        guard node != masterNode else { return }
        factory.logger.info("redis master switched", metadata: [
            "master": "\(String(decoding: masterName, as: UTF8.self))", "to": "\(node)",
        ])
        announcedMaster = node
        discoveryEpoch &+= 1
        if let m = master { lost(m) }
        discover()
    }
}
