import GatewayCore
import GatewayLoop
import Logging

/// Where one loop's commands go: one node, the slot's master (Cluster) or the current master (Sentinel).
protocol RedisTopology: AnyObject {
    /// Sends a command about `key`; `completion` runs on the loop, possibly before `send` returns.
    func send(_ args: [[UInt8]], key: [UInt8], completion: @escaping RedisNodeConnection.Completion)
    /// True when every node the store needs answers `PING`.
    func ping(completion: @escaping (Bool) -> Void)
    /// Writes made by this loop's data connections so far.
    var writeCount: Int { get }
    /// Closes every connection (the store is going away), failing what waits.
    func shutdown()
}

/// Makes this loop's connections: all share the loop, the login, TLS, the timeout and the logger.
struct RedisConnectionFactory {
    let loop: EventLoop
    let login: RedisLogin
    let tls: RedisTLS?
    let timeout: TimeSpan
    let logger: Logger

    /// A connection to a data node (logs in).
    func data(_ node: RedisNodeAddress) -> RedisNodeConnection {
        RedisNodeConnection(node: node, loop: loop, login: login, tls: tls, timeout: timeout, logger: logger)
    }

    /// A connection to a Sentinel (no login: the URL's credentials are the data nodes').
    func sentinel(_ node: RedisNodeAddress) -> RedisNodeConnection {
        RedisNodeConnection(node: node, loop: loop, login: RedisLogin(), tls: tls, timeout: timeout, logger: logger)
    }
}

/// One loop's side of the Redis store: what to send for an admit, a release and a readiness check, and what the
/// replies mean. Loop-confined.
final class RedisRouter {
    private let topology: any RedisTopology

    init(endpoint: RedisEndpoint, loop: EventLoop, tls: RedisTLS?, timeout: TimeSpan, logger: Logger) {
        let factory = RedisConnectionFactory(
            loop: loop, login: RedisLogin(username: endpoint.username, password: endpoint.password, database: endpoint.database),
            tls: tls, timeout: timeout, logger: logger)
        let nodes = endpoint.nodes
        switch endpoint.mode {
        case .standalone: topology = RedisStandalone(node: factory.data(nodes[0]))
        case .cluster: topology = RedisClusterRouter(seeds: nodes, factory: factory)
        case .sentinel(let master): topology = RedisSentinelRouter(sentinels: nodes, masterName: master, factory: factory)
        }
    }

    /// `SET key 1 EXAT expireAt NX`: `+OK` is a first use, nil a replay.
    func setIfAbsent(key: [UInt8], expireAt: Int64, completion: @escaping (ReplayAdmission) -> Void) {
        let args: [[UInt8]] = [Self.set, key, Self.one, Self.exat, Array(String(expireAt).utf8), Self.nx]
        topology.send(args, key: key) { result in completion(Self.admission(result)) }
    }

    func delete(key: [UInt8]) {
        topology.send([Self.del, key], key: key) { _ in }
    }

    func ping(completion: @escaping (Bool) -> Void) { topology.ping(completion: completion) }

    var writeCount: Int { topology.writeCount }

    func shutdown() { topology.shutdown() }

    static func admission(_ result: Result<RedisReply, RedisFault>) -> ReplayAdmission {
        switch result {
        case .success(.status("OK")): .fresh
        case .success(.null): .replayed
        case .success: .unavailable(.reply)
        case .failure(.timeout): .unavailable(.timeout)
        case .failure(.connection): .unavailable(.connection)
        case .failure(.protocolError): .unavailable(.reply)
        }
    }

    static let pingCommand = [Array("PING".utf8)]
    private static let set = Array("SET".utf8)
    private static let one = [UInt8(ascii: "1")]
    private static let exat = Array("EXAT".utf8)
    private static let nx = Array("NX".utf8)
    private static let del = Array("DEL".utf8)
}

/// One Redis server.
final class RedisStandalone: RedisTopology {
    private let node: RedisNodeConnection

    init(node: RedisNodeConnection) { self.node = node }

    func send(_ args: [[UInt8]], key: [UInt8], completion: @escaping RedisNodeConnection.Completion) {
        node.send(args, completion: completion)
    }

    func ping(completion: @escaping (Bool) -> Void) {
        node.send(RedisRouter.pingCommand) { completion($0 == .success(.status("PONG"))) }
    }

    var writeCount: Int { node.writeCount }

    func shutdown() { node.close() }
}
