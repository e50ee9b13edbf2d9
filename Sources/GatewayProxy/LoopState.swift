import GatewayAuth
import GatewayCore
import GatewayLoop
import GatewayReplay

/// Everything one loop owns besides its connections' own state: the config snapshot it serves, its upstream pool.
/// Confined to its loop; `@unchecked Sendable` only so hops onto that same loop can carry it.
final class LoopState: @unchecked Sendable {
    let loop: EventLoop
    unowned let server: GatewayServer
    var snapshot: RuntimeSnapshot
    let pool: UpstreamPool
    /// Replaced by a reload that changes the store's settings (see `GatewayServer.reload`).
    var replayStore: any ReplayStore
    let metrics: GatewayMetrics
    /// Client connections alive on this loop (for draining).
    var clients: [ObjectIdentifier: any GatewayClient] = [:]
    var draining = false
    /// How long an idle client connection waits during the drain for a request already on the wire.
    var drainQuietPeriod: TimeSpan = .seconds(1)
    /// Depth of read handlers in progress; while > 0, writes gather and leave in one send at the end.
    private var batchDepth = 0
    private var corked: [any Corkable] = []
    private let accessLog: AccessLogBuffer
    private var flushTimer: LoopTimer?
    /// The server's, read once: the server is referenced weakly by its listeners, which gives it a side table and
    /// sends every read of it through the unowned reference down the runtime's slow path (once per exchange here).
    let accessLogEnabled: Bool

    init(loop: EventLoop, server: GatewayServer, snapshot: RuntimeSnapshot, replayStore: any ReplayStore, metrics: GatewayMetrics) {
        self.loop = loop
        self.server = server
        self.snapshot = snapshot
        self.replayStore = replayStore
        self.metrics = metrics
        pool = UpstreamPool(loop: loop)
        accessLog = AccessLogBuffer(writer: server.accessLogWriter)
        accessLogEnabled = server.accessLogEnabled
    }

    /// Serves `new` to requests that start from now on (a reload, or a name's addresses changed).
    func install(_ new: RuntimeSnapshot) {
        loop.assertInLoop()
        snapshot = new
        pool.retainOnly(slots: new.poolSlotSet)
    }

    #if DEBUG
    let live = LiveObjects()
    #endif

    /// Gives a unit of a server's connection budget back and, when exchanges wait for it, wakes every loop's queue.
    func releaseBudget(_ budget: ServerBudget, slot: Int) {
        guard budget.release() else { return }
        for state in server.loopStates {
            if state === self { pool.scheduleServe(slot: slot) } else { state.loop.execute { state.pool.scheduleServe(slot: slot) } }
        }
    }

    /// A server's budget is spent and an exchange here waits: idle connections of other loops may be what holds it,
    /// so each other loop closes one (a loop whose own exchanges wait keeps its connections for them).
    func trimIdleElsewhere(slot: Int) {
        for state in server.loopStates where state !== self {
            state.loop.execute { state.pool.closeOneIdle(slot: slot) }
        }
    }

    /// Where an exchange serializes the request head it sends upstream; see `ProxyExchange.attach`.
    var headScratch: [UInt8] = []
    /// Field arrays of heads this loop is done with (request heads forwarded, response heads passed on), for the
    /// heads HTTP/2 sessions assemble and upstream connections parse next.
    let fieldsPool = HeaderFieldsPool()

    /// Limits the `on_unavailable: allow` warning. Per loop, like the rest of its state: no lock on the path every
    /// single-use request takes while the store is down. A process logs at most one line a second per loop; the
    /// exact total is `gateway_replay_unchecked_total`.
    private var uncheckedWarning = RepeatedWarningLimiter()

    /// An exchange goes on without a replay check (the store could not answer, `on_unavailable: allow`): counted,
    /// and warned about at most once a second while it lasts.
    func admittedUnchecked(_ fault: ReplayStoreFault) {
        metrics.replayUncheckedAdmission()
        guard let count = uncheckedWarning.occurred(now: loop.now()) else { return }
        server.logger.warning("replay store unavailable: requests admitted without a replay check (on_unavailable: allow)",
                              metadata: ["unchecked": "\(count)", "reason": "\(fault.rawValue)", "loop": "\(loop.index)"])
    }

    private var tokenCache = VerifiedTokenCache()
    /// Strong: an identity check against a freed (and reused) address could pair the cache with another config.
    private var tokenCacheSnapshot: RuntimeSnapshot?

    /// This loop's cache of accepted tokens for `snap`; a new config gets an empty one (secrets, apps or shops may differ).
    func tokenCache(for snap: RuntimeSnapshot) -> VerifiedTokenCache {
        if tokenCacheSnapshot !== snap {
            tokenCache = VerifiedTokenCache()
            tokenCacheSnapshot = snap
        }
        return tokenCache
    }

    /// Buffers an access-log line; the batch goes out within ~100 ms or when it grows large.
    func logAccess(_ record: AccessLogRecord) {
        accessLog.write(record)
        if flushTimer == nil {
            flushTimer = LoopTimer(loop: loop) { [unowned self] in self.accessLog.flush() }
        }
        if let t = flushTimer, !t.isArmed { t.arm(after: .milliseconds(100)) }
    }

    func flushAccessLog() { accessLog.flush() }

    /// Starts turning one read's worth of bytes into output.
    @inline(__always)
    func beginBatch() { batchDepth += 1 }

    /// Ends it: every connection that gathered output sends it now, in one syscall each.
    func endBatch() {
        batchDepth -= 1
        guard batchDepth == 0, !corked.isEmpty else { return }
        let list = corked
        corked.removeAll(keepingCapacity: true)
        for c in list { c.uncork() }
    }

    /// Whether a write now should gather (and the writer register itself with `addCorked`).
    var isBatching: Bool { batchDepth > 0 }

    func addCorked(_ c: any Corkable) { corked.append(c) }

    func register(_ c: any GatewayClient) {
        clients[ObjectIdentifier(c)] = c
    }

    func unregister(_ c: any GatewayClient) {
        if clients.removeValue(forKey: ObjectIdentifier(c)) != nil {
            server.connectionClosed()
        }
    }

    /// Protocol detection handed the connection on: the count of open connections stays.
    func handOver(from old: any GatewayClient) {
        clients.removeValue(forKey: ObjectIdentifier(old))
    }

    /// Keeps `object` alive until the loop's current work item is over (it may still be on the call stack).
    func releaseLater(_ object: AnyObject) {
        let keep = UnsafeTransfer(object)
        loop.execute { _ = keep }
    }

    /// Stop taking new connections' requests: idle connections close after `quietPeriod` (a request already on the
    /// wire is still answered), busy ones after their response. Admin connections stay: a health checker's
    /// keep-alive connection must still get `/readyz` 503 while the gateway drains (they do not hold the drain
    /// open, and are closed with everything else when it ends).
    func beginDrain(quietPeriod: TimeSpan) {
        draining = true
        drainQuietPeriod = quietPeriod
        for c in Array(clients.values) where c.kind != .admin { c.drain() }
        pool.closeAllIdle()
    }

    func closeAll() {
        for c in Array(clients.values) { c.forceClose() }
        pool.closeAllIdle()
    }
}
