import Dispatch
import GatewayCore
import Logging
import Synchronization

/// A replay store shared by several gateway processes: one Redis key per used token, set atomically with
/// `SET <prefix><app>:<jti> 1 EXAT <until+1> NX`.
///
/// The blocking hiredis calls run on a few dedicated serial queues, each owning one connection, so the
/// caller's loop never waits. A request that cannot get an answer within `timeout` (connect and command
/// each get `timeout`; a request that waited longer than `timeout` in the queue is not sent at all) is
/// answered `.unavailable`; the failed connection is dropped and the next request reconnects. What an unanswered
/// admit means (`on_unavailable`) is the exchange's decision, made in one place and counted there.
public final class RedisReplayStore: ReplayStore {
    /// One serial queue and the connection only it touches.
    private final class Lane: Sendable {
        let queue: DispatchQueue
        let connection: RedisConnection
        init(index: Int, endpoint: RedisEndpoint, timeout: TimeSpan, logger: Logger) {
            queue = DispatchQueue(label: "session-gateway.replay.redis.\(index)")
            connection = RedisConnection(endpoint: endpoint, timeout: timeout, logger: logger)
        }
    }

    /// Where the store connects (printable: never shows the password).
    public let endpoint: RedisEndpoint
    private let keyPrefix: [UInt8]
    private let timeoutNanos: UInt64
    private let clock: any Clock
    private let lanes: [Lane]
    private let nextLane = Atomic<Int>(0)
    private let unavailable = Atomic<Int>(0)

    /// A store talking to `endpoint` over `connections` connections, each logging in (`AUTH`, then `SELECT`) on
    /// every connect and reconnect; a refused login fails that connection and is logged on `logger`.
    ///
    /// Creating the store does not connect; the first request (or `isReady`) does.
    public init(endpoint: RedisEndpoint, keyPrefix: String, timeout: TimeSpan,
                connections: Int = 2, clock: any Clock = SystemClock(),
                logger: Logger = Logger(label: "session-gateway.replay")) {
        self.endpoint = endpoint
        self.keyPrefix = Array(keyPrefix.utf8)
        self.timeoutNanos = UInt64(max(1_000_000, timeout.nanoseconds))
        self.clock = clock
        lanes = (0..<max(1, connections)).map { Lane(index: $0, endpoint: endpoint, timeout: timeout, logger: logger) }
    }

    /// A store talking to `url` (`redis://[[user]:password@]host[:port][/db]`); see `init(endpoint:...)`.
    public convenience init(url: String, keyPrefix: String, timeout: TimeSpan,
                            connections: Int = 2, clock: any Clock = SystemClock()) throws(RedisURLError) {
        self.init(endpoint: try RedisEndpoint(url: url), keyPrefix: keyPrefix, timeout: timeout,
                  connections: connections, clock: clock)
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

    /// Answers later on one of the store's queues. The key expires at `until + 1` (Redis drops it at that
    /// second), matching the memory store, which holds an entry through the whole second `until`.
    public func admit(app: String, jti: String, until: Int64, completion: @escaping @Sendable (ReplayAdmission) -> Void) {
        let key = key(app: app, jti: jti)
        let expireAt = max(1, until &+ 1)
        let deadline = clock.monotonicNanos() &+ timeoutNanos
        let lane = pickLane()
        lane.queue.async { [self] in
            let started = clock.monotonicNanos()
            guard started <= deadline else {
                completion(unavailableAnswer(.timeout))
                return
            }
            switch lane.connection.setIfAbsent(key: key, expireAt: expireAt) {
            case .stored: completion(.fresh)
            case .exists: completion(.replayed)
            case .failed:
                // The connection does not say why it failed; a refusal, a reset or an error reply come back at
                // once, so a failure that took the whole timeout is the socket's timeout running out.
                let timedOut = clock.monotonicNanos() &- started >= timeoutNanos
                completion(unavailableAnswer(timedOut ? .timeout : .connection))
            }
        }
    }

    /// `DEL`s the key on one of the store's queues. When Redis cannot be asked the key simply stays until it
    /// expires: the retry then gets `token_replayed`, never a second admission.
    public func release(app: String, jti: String) {
        let key = key(app: app, jti: jti)
        let lane = pickLane()
        lane.queue.async { _ = lane.connection.delete(key: key) }
    }

    /// PINGs Redis (connecting if needed) within the timeout; false when it does not answer.
    public func isReady(completion: @escaping @Sendable (Bool) -> Void) {
        let deadline = clock.monotonicNanos() &+ timeoutNanos
        let lane = pickLane()
        lane.queue.async { [clock] in
            guard clock.monotonicNanos() <= deadline else { completion(false); return }
            completion(lane.connection.ping())
        }
    }

    private func pickLane() -> Lane {
        let n = nextLane.add(1, ordering: .relaxed).oldValue
        return lanes[Int(UInt(bitPattern: n) % UInt(lanes.count))]
    }

    private func unavailableAnswer(_ fault: ReplayStoreFault) -> ReplayAdmission {
        unavailable.add(1, ordering: .relaxed)
        return .unavailable(fault)
    }
}
