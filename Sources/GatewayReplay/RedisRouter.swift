import GatewayCore
import GatewayLoop
import Logging

/// Where one loop's Redis commands go, and what their replies mean for an admit. Loop-confined.
final class RedisRouter {
    private let loop: EventLoop
    private let node: RedisNodeConnection

    init(endpoint: RedisEndpoint, loop: EventLoop, tls: RedisTLS?, timeout: TimeSpan, logger: Logger) {
        self.loop = loop
        let login = RedisLogin(username: endpoint.username, password: endpoint.password, database: endpoint.database)
        node = RedisNodeConnection(host: endpoint.host, port: endpoint.port, loop: loop, login: login, tls: tls,
                                   timeout: timeout, logger: logger)
    }

    /// `SET key 1 EXAT expireAt NX`: `+OK` is a first use, nil a replay.
    func setIfAbsent(key: [UInt8], expireAt: Int64, completion: @escaping (ReplayAdmission) -> Void) {
        let args: [[UInt8]] = [Self.set, key, Self.one, Self.exat, Array(String(expireAt).utf8), Self.nx]
        node.send(args) { result in completion(Self.admission(result)) }
    }

    func delete(key: [UInt8]) {
        node.send([Self.del, key]) { _ in }
    }

    /// True when every node the store needs answers `PING`.
    func ping(completion: @escaping @Sendable (Bool) -> Void) {
        node.send([Self.pingCommand]) { result in
            if case .success(.status("PONG")) = result { completion(true) } else { completion(false) }
        }
    }

    /// Writes this loop's connections made so far.
    var writeCount: Int { node.writeCount }

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

    private static let set = Array("SET".utf8)
    private static let one = [UInt8(ascii: "1")]
    private static let exat = Array("EXAT".utf8)
    private static let nx = Array("NX".utf8)
    private static let del = Array("DEL".utf8)
    private static let pingCommand = Array("PING".utf8)
}
