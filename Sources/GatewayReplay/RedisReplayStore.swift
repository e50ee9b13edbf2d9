import GatewayCore
import GatewayLoop
import Logging
import Synchronization

/// A replay store shared by several gateway processes: one Redis key per used token, set atomically with
/// `SET <prefix><app>:<jti> 1 EXAT <until+1> NX`.
///
/// It runs on the gateway's own loops: each loop has its own connection to each Redis node it needs (`RedisRouter`),
/// admits made while a loop handles one batch of events leave in one write (pipelining), and replies come back on
/// that loop. No thread, no blocking call. An admit that gets no answer within `timeout` is answered `.unavailable`;
/// what that means (`on_unavailable`) is the exchange's decision, made in one place and counted there.
public final class RedisReplayStore: ReplayStore {
    /// Where the store connects (printable: never shows the password).
    public let endpoint: RedisEndpoint
    private let keyPrefix: [UInt8]
    private let loops: [EventLoop]
    /// Loops the store made for itself when the caller gave none (tools and tests); kept alive with it.
    private let ownGroup: EventLoopGroup?
    /// One router per loop, touched only on its loop.
    private let routers: [UnsafeTransfer<RedisRouter>]
    private let unavailable = Atomic<Int>(0)

    /// A store talking to `endpoint` from `loops` (nil: one loop of its own), logging in (`AUTH`, then `SELECT`) on
    /// every connect; a refused login is logged on `logger`. Creating the store does not connect; the first
    /// command does.
    public init(endpoint: RedisEndpoint, keyPrefix: String, timeout: TimeSpan, tls: RedisTLS? = nil,
                loops: [EventLoop]? = nil, logger: Logger = Logger(label: "session-gateway.replay")) {
        self.endpoint = endpoint
        self.keyPrefix = Array(keyPrefix.utf8)
        if let loops, !loops.isEmpty {
            self.loops = loops
            ownGroup = nil
        } else {
            let group = EventLoopGroup(loopCount: 1)
            self.loops = group.loops
            ownGroup = group
        }
        routers = self.loops.map {
            UnsafeTransfer(RedisRouter(endpoint: endpoint, loop: $0, tls: tls, timeout: timeout, logger: logger))
        }
    }

    /// Each loop closes its connections on its own queue (they are loop-confined).
    deinit {
        for (i, loop) in loops.enumerated() {
            let router = routers[i]
            loop.execute { router.value.shutdown() }
        }
    }

    /// A store talking to `url` (`redis://[[user]:password@]host[:port][/db]`); see `init(endpoint:...)`.
    public convenience init(url: String, keyPrefix: String, timeout: TimeSpan) throws(RedisURLError) {
        self.init(endpoint: try RedisEndpoint(url: url), keyPrefix: keyPrefix, timeout: timeout)
    }

    /// Always 0: the keys live in Redis, shared with other gateways, and counting them would cost a scan.
    public var entryCount: Int { 0 }

    /// How many admissions Redis could not answer (each was answered `.unavailable`).
    public var unavailableCount: Int { unavailable.load(ordering: .relaxed) }

    /// The Redis key for a pair: `<prefix><app>:<jti>`, raw bytes. Client ids never contain `:`, so the
    /// split between app and jti is unambiguous.
    func key(app: String, jti: String) -> [UInt8] {
        var key = keyPrefix
        key.reserveCapacity(keyPrefix.count + app.utf8.count + 1 + jti.utf8.count)
        key.append(contentsOf: app.utf8)
        key.append(UInt8(ascii: ":"))
        key.append(contentsOf: jti.utf8)
        return key
    }

    /// Answers on the caller's loop (or the store's first loop for a caller on none), later or at once when the
    /// store is backing off. The key expires at `until + 1` (Redis drops it at that second), matching the memory
    /// store, which holds an entry through the whole second `until`.
    public func admit(app: String, jti: String, until: Int64, completion: @escaping @Sendable (ReplayAdmission) -> Void) {
        let key = key(app: app, jti: jti)
        let expireAt = max(1, until &+ 1)
        let counter = UnsafeTransfer(self)
        onLoop { router in
            router.setIfAbsent(key: key, expireAt: expireAt) { admission in
                if case .unavailable = admission { counter.value.unavailable.add(1, ordering: .relaxed) }
                completion(admission)
            }
        }
    }

    /// `DEL`s the key. When Redis cannot be asked the key simply stays until it expires: the retry then gets
    /// `token_replayed`, never a second admission.
    public func release(app: String, jti: String) {
        let key = key(app: app, jti: jti)
        onLoop { $0.delete(key: key) }
    }

    /// Asks every node the store needs, from every loop (`PING`, within the timeout): each loop has connections and
    /// a backoff of its own, so one loop answering says nothing about the requests another one carries. True when
    /// all answer; `completion` runs on the last loop to answer.
    public func isReady(completion: @escaping @Sendable (Bool) -> Void) {
        let tally = Locked((left: loops.count, ready: true))
        for (i, loop) in loops.enumerated() {
            let router = routers[i]
            let ask: @Sendable () -> Void = {
                router.value.ping { ok in
                    let done: Bool? = tally.withLock { t in
                        t.ready = t.ready && ok
                        t.left -= 1
                        return t.left == 0 ? t.ready : nil
                    }
                    if let done { completion(done) }
                }
            }
            if loop.inLoop { ask() } else { loop.execute(ask) }
        }
    }

    /// Writes each loop's connections made so far, summed (for tests of the pipelining).
    func writeCount(completion: @escaping @Sendable (Int) -> Void) {
        onLoop { completion($0.writeCount) }
    }

    /// Runs `body` with the router of the loop the caller is on, or on the first loop.
    private func onLoop(_ body: @escaping (RedisRouter) -> Void) {
        for (i, loop) in loops.enumerated() where loop.inLoop {
            body(routers[i].value)
            return
        }
        let router = routers[0]
        let work = UnsafeTransfer(body)
        loops[0].execute { work.value(router.value) }
    }
}
