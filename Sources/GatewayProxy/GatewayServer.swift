import Dispatch
import GatewayConfig
import GatewayCore
import GatewayTransport
import GatewayLoop
import GatewayReplay
import GatewayTLS
import Logging
import Metrics
import Synchronization

/// The running gateway: loops, listeners, the current config snapshot on every loop, reload and drain.
public final class GatewayServer: @unchecked Sendable {
    public let clock: any Clock
    public let logger: Logger
    let accessLogWriter: any AccessLogWriter
    let accessLogEnabled: Bool
    private let group: EventLoopGroup
    private(set) var loopStates: [LoopState] = []
    private var listeners: [Listener] = []
    private var adminListener: Listener?
    private let kind: ListenerKind
    /// The replay store and the settings it was built from; a reload that changes them builds a new one.
    private let store: Locked<(store: any ReplayStore, settings: ReplayConfig, injected: Bool)>
    private let metricsRenderer: @Sendable () -> String
    private let openConnections = Atomic<Int>(0)
    private let draining = Atomic<Bool>(false)
    /// Set by the first stop signal: `/readyz` answers 503 from then on, grace or drain.
    private let readinessWithdrawn = Atomic<Bool>(false)
    private let shutdownMachine = Locked(ShutdownStateMachine())
    private let generation = Atomic<Int>(1)
    private let connectionsGauge = Gauge(label: "gateway_connections_open")
    private let replayGauge = Gauge(label: "gateway_replay_entries")
    /// `limits.max_connections`: written by a reload (signal queue), read by every accept (the loops).
    private let maxConnections: Atomic<Int>
    private let control = DispatchQueue(label: "session-gateway.control")
    /// The snapshot the loops serve (or are about to: each gets it in order through its queue) and the state of its
    /// host names; a reload and a changed name both go through it, so neither overwrites the other.
    let installed: Locked<(snapshot: RuntimeSnapshot, names: ResolvedNames)>
    /// Looks host names up; the system's getaddrinfo unless a test injects another.
    let resolver: NameResolver
    /// Where names are looked up again (getaddrinfo blocks: never on a loop); what follows is touched only there.
    let resolveQueue = DispatchQueue(label: "session-gateway.resolve")
    var resolveTimer: DispatchSourceTimer?
    var resolveDue: [String: DispatchTime] = [:]
    var resolveStopped = false

    /// Builds loops and the first snapshot; nothing listens until `start()`.
    public init(config: GatewayConfig, kind: ListenerKind = .gateway, loopCount: Int = 0, clock: any Clock = SystemClock(),
                logger: Logger = Logger(label: "session-gateway"), replayStore: (any ReplayStore)? = nil,
                accessLogWriter: any AccessLogWriter = StdoutAccessLogWriter(),
                metricsRenderer: @escaping @Sendable () -> String = { "" },
                resolver: @escaping NameResolver = SocketAddress.systemResolver) throws {
        self.resolver = resolver
        self.clock = clock
        self.logger = logger
        self.kind = kind
        self.accessLogWriter = accessLogWriter
        self.metricsRenderer = metricsRenderer
        accessLogEnabled = kind == .gateway && [LogLevel.trace, .debug, .info].contains(config.logging.level)
        maxConnections = Atomic(config.limits.maxConnections)
        group = EventLoopGroup(loopCount: loopCount)
        let snapshot = try RuntimeSnapshot(config: config, clock: clock, generation: 1, resolver: resolver)
        installed = Locked((snapshot, snapshot.names))
        let initialStore = try replayStore ?? ReplayStoreFactory.make(config.replay, clock: clock, loops: group.loops, logger: logger)
        store = Locked((initialStore, config.replay, replayStore != nil))
        for loop in group.loops {
            loopStates.append(LoopState(loop: loop, server: self, snapshot: snapshot, replayStore: initialStore,
                                        metrics: GatewayMetrics()))
        }
    }

    /// Binds every listener (gateway and admin); ports are known when this returns.
    public func start() throws {
        let config = loopStates[0].snapshot.config
        for l in config.listeners {
            let addr = try SocketAddress.resolve(l.address)
            let listener = try Listener(address: addr, group: group)
            listeners.append(listener)
        }
        if kind == .gateway, let admin = config.admin {
            adminListener = try Listener(address: try SocketAddress.resolve(admin.address), group: group)
        }
        let states = loopStates
        let onPause = acceptPauseReporter()
        for (index, listener) in listeners.enumerated() {
            // A reload may bring new certificates; the start-time context serves if it drops this listener.
            let startTLS = loopStates[0].snapshot.listenerTLS[index]
            listener.start(onAccept: { [weak self] fd, peer, loop in
                self?.accepted(fd: fd, peer: peer, loop: loop, kind: self?.kind ?? .gateway, states: states,
                               listener: index, tlsIndex: startTLS == nil ? nil : index, startTLS: startTLS)
            }, onPause: onPause)
        }
        adminListener?.start(onAccept: { [weak self] fd, peer, loop in
            self?.accepted(fd: fd, peer: peer, loop: loop, kind: .admin, states: states)
        }, onPause: onPause)
        planResolution(reset: false)
    }

    deinit { resolveTimer?.cancel() }

    /// Logs a listener's accept pause (out of descriptors or memory); the listener already limits it to once a second.
    private func acceptPauseReporter() -> Listener.PauseHandler {
        let logger = self.logger
        return { pause in
            logger.warning("accept paused", metadata: [
                "listener": "\(pause.address)", "error": "\(pause.error)",
                "pause_ms": "\(pause.nanos / 1_000_000)", "pauses": "\(pause.pauses)",
            ])
        }
    }

    /// Actual bound addresses of the gateway listeners (useful with port 0).
    public var listenerAddresses: [SocketAddress] { listeners.map(\.address) }
    public var adminAddress: SocketAddress? { adminListener?.address }
    public var isDraining: Bool { draining.load(ordering: .relaxed) }
    /// Whether `/readyz` fails: a stop signal arrived (the readiness grace or the drain).
    public var isReadinessWithdrawn: Bool { readinessWithdrawn.load(ordering: .relaxed) || isDraining }
    public var connectionCount: Int { openConnections.load(ordering: .relaxed) }

    private func accepted(fd: Int32, peer: SocketAddress, loop: EventLoop, kind: ListenerKind, states: [LoopState],
                          listener: Int = -1, tlsIndex: Int? = nil, startTLS: TLSContext? = nil) {
        let state = states[loop.index]
        let n = openConnections.wrappingAdd(1, ordering: .relaxed).newValue
        if (n > maxConnections.load(ordering: .relaxed) && kind != .admin) || (state.draining && kind != .admin) {
            openConnections.wrappingSubtract(1, ordering: .relaxed)
            let ch = SocketChannel(fd: fd, loop: loop)
            ch.close()
            return
        }
        connectionsGauge.record(n)
        let channel = SocketChannel(fd: fd, loop: loop)
        var tls: TLSConnection?
        if let tlsIndex, let context = state.snapshot.listenerTLSContext(tlsIndex) ?? startTLS {
            tls = try? TLSConnection(context: context)
            if tls == nil {
                openConnections.wrappingSubtract(1, ordering: .relaxed)
                channel.close()
                return
            }
        }
        let transport = TransportChannel(channel: channel, tls: tls)
        if kind == .gateway {
            let configured = state.snapshot.config.listeners
            let proxyProtocol = listener >= 0 && listener < configured.count && configured[listener].proxyProtocol
            ProtocolDetector(transport: transport, peerIP: peer.ipString, loopState: state, listener: listener,
                             proxyProtocol: proxyProtocol).start()
        } else {
            ClientConnection(transport: transport, peerIP: peer.ipString, loopState: state, kind: kind).start()
        }
    }

    func connectionClosed() {
        let n = openConnections.wrappingSubtract(1, ordering: .relaxed).newValue
        connectionsGauge.record(n)
    }

    /// Prometheus text for `/metrics`, with the sampled gauges refreshed first.
    func renderMetrics() -> String {
        replayGauge.record(store.withLock { $0.store }.entryCount)
        connectionsGauge.record(openConnections.load(ordering: .relaxed))
        return metricsRenderer()
    }

    /// Swaps in a new config for requests that start from now on; listeners and connections stay.
    public func reload(_ config: GatewayConfig) throws {
        let g = generation.wrappingAdd(1, ordering: .relaxed).newValue
        let snapshot = try RuntimeSnapshot(config: config, clock: clock, generation: g, resolver: resolver)
        try reloadReplayStore(config.replay)
        // Relaxed: the limit is a bound on its own, ordered with nothing else a loop reads.
        maxConnections.store(config.limits.maxConnections, ordering: .relaxed)
        installed.withLock { current in
            current = (snapshot, snapshot.names)
            for state in loopStates {
                state.loop.execute { state.install(snapshot) }
            }
        }
        // The load just looked every name up: the intervals start again from now.
        planResolution(reset: true)
    }

    /// Builds a new replay store when a reload changed what the store is made from (a rotated Redis password, another
    /// URL, TLS files, `memory` <-> `redis`), and hands it to every loop for admits that start from now on; admits
    /// in flight finish on the old one. A memory store is kept across reloads (its entries are what it is for):
    /// its new `max_entries` applies at the next start. `on_unavailable` is read per request and needs no rebuild.
    private func reloadReplayStore(_ replay: ReplayConfig) throws {
        let (current, injected) = store.withLock { ($0.settings, $0.injected) }
        guard !injected, Self.storeSettings(replay) != Self.storeSettings(current) else { return }
        if replay.store == .memory && current.store == .memory {
            logger.warning("replay.max_entries changed: the memory store keeps its entries and its old bound until the next start",
                           metadata: ["max_entries": "\(current.maxEntries)", "new_max_entries": "\(replay.maxEntries)"])
            store.withLock { $0.settings = replay }
            return
        }
        let fresh = try ReplayStoreFactory.make(replay, clock: clock, loops: group.loops, logger: logger)
        if current.store != replay.store {
            logger.warning("replay store switched: tokens used before the reload are unknown to the new store and can be used once more until they expire",
                           metadata: ["from": "\(current.store)", "to": "\(replay.store)"])
        }
        var where_ = "memory"
        if replay.store == .redis, let endpoint = try? replay.redis.endpoint() { where_ = endpoint.description }
        logger.info("replay store rebuilt for the new config", metadata: ["store": "\(where_)"])
        store.withLock { $0 = (fresh, replay, false) }
        for state in loopStates {
            state.loop.execute { state.replayStore = fresh }
        }
    }

    /// What a replay store is built from: everything in `replay` but the per-request settings.
    private static func storeSettings(_ replay: ReplayConfig) -> ReplayConfig {
        var r = replay
        r.mode = .singleUse
        r.redis.onUnavailable = .reject
        return r
    }

    /// What a stop signal (SIGTERM, SIGINT) does: `/readyz` fails at once, everything else is served for
    /// `readinessGrace`, then the drain runs for up to `drainTimeout`; `completion` runs after the drain.
    /// A second signal during the grace starts the drain at once (see `ShutdownStateMachine`).
    public func stop(readinessGrace: TimeSpan, drainTimeout: TimeSpan, completion: @escaping @Sendable () -> Void) {
        let action = shutdownMachine.withLock { $0.stopSignal(grace: readinessGrace) }
        perform(action, drainTimeout: drainTimeout, completion: completion)
    }

    private func perform(_ action: ShutdownStateMachine.Action, drainTimeout: TimeSpan,
                         completion: @escaping @Sendable () -> Void) {
        switch action {
        case .none:
            return
        case .startGrace(let grace):
            readinessWithdrawn.store(true, ordering: .relaxed)
            logger.info("stop signal: /readyz answers 503; still serving for the readiness grace",
                        metadata: ["readiness_grace": "\(grace)"])
            control.asyncAfter(deadline: .now() + .nanoseconds(Int(grace.nanoseconds))) { [self] in
                let next = shutdownMachine.withLock { $0.graceEnded() }
                perform(next, drainTimeout: drainTimeout, completion: completion)
            }
        case .startDrain:
            readinessWithdrawn.store(true, ordering: .relaxed)
            logger.info("draining", metadata: ["timeout": "\(drainTimeout)"])
            drain(timeout: drainTimeout, completion: completion)
        }
    }

    /// Stops accepting, lets in-flight exchanges finish up to `timeout`, then closes the rest; `completion` runs after.
    public func drain(timeout: TimeSpan, completion: @escaping @Sendable () -> Void) {
        draining.store(true, ordering: .relaxed)
        stopResolution()
        for l in listeners { l.stop() }
        // An idle connection's quiet period: long enough for a request already sent to arrive, short enough that
        // idle keep-alive connections do not hold the drain open; never beyond the drain itself.
        let quiet = min(timeout, Self.drainQuietPeriod)
        for state in loopStates { state.loop.execute { state.beginDrain(quietPeriod: quiet) } }
        let deadline = clock.monotonicNanos() &+ UInt64(max(0, timeout.nanoseconds))
        pollDrain(deadline: deadline, completion: completion)
    }

    /// The longest an idle client connection waits, once the drain began, for a request already on the wire.
    static let drainQuietPeriod = TimeSpan.seconds(1)

    private func pollDrain(deadline: UInt64, completion: @escaping @Sendable () -> Void) {
        control.asyncAfter(deadline: .now() + .milliseconds(50)) { [self] in
            if connectionCount <= adminConnections() || clock.monotonicNanos() >= deadline {
                for state in loopStates {
                    state.loop.execute {
                        state.closeAll()
                        state.flushAccessLog()
                    }
                }
                adminListener?.stop()
                control.asyncAfter(deadline: .now() + .milliseconds(50)) { completion() }
                return
            }
            pollDrain(deadline: deadline, completion: completion)
        }
    }

    private func adminConnections() -> Int {
        // Admin connections (a scraper's keep-alive) must not hold the drain open.
        loopStates.reduce(0) { acc, state in
            acc + state.loop.queue.sync { state.clients.values.filter { $0.kind == .admin }.count }
        }
    }

    /// Flushes buffered access-log lines on every loop (tests and shutdown).
    public func flushLogs() {
        for state in loopStates { state.loop.queue.sync { state.flushAccessLog() } }
    }
}
