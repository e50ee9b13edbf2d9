import Foundation

/// A real Sentinel deployment on free loopback ports: one master, one replica, and one or three Sentinels
/// with short timeouts, so failover tests finish in seconds.
public final class RedisSentinelSetup {
    /// The name the Sentinels monitor the master under.
    public let masterName: String
    /// `requirepass` (and `masterauth`) of the data nodes; the Sentinels use it through `sentinel auth-pass`.
    public let password: String?
    /// `requirepass` of the Sentinels themselves (shared among them with `sentinel sentinel-pass`).
    public let sentinelPassword: String?
    public let sentinelPorts: [Int]
    /// The data nodes' ports: index 0 starts as master, index 1 as its replica.
    public let dataPorts: [Int]
    /// Which entry of `dataPorts` is the master now.
    public private(set) var masterIndex = 0
    private var dataNodes: [RedisChildProcess]
    private var sentinels: [RedisChildProcess]
    private let directory: TemporaryDirectory

    public var masterPort: Int { dataPorts[masterIndex] }
    public var replicaPort: Int { dataPorts[1 - masterIndex] }

    /// Starts master, replica and `sentinels` Sentinels (quorum: a majority), and waits until every Sentinel sees
    /// the replica as healthy and, with three, knows the other Sentinels (they must vote for an automatic failover).
    public init(sentinels sentinelCount: Int = 1, masterName: String = "gateway-master", password: String? = nil,
                sentinelPassword: String? = nil, downAfterMilliseconds: Int = 1000, failoverTimeoutMilliseconds: Int = 3000) throws {
        self.masterName = masterName
        self.password = password
        self.sentinelPassword = sentinelPassword
        directory = try TemporaryDirectory(prefix: "sgw-redis-sentinel-")
        let ports = try RedisChildProcess.freePorts(2 + sentinelCount)
        dataPorts = Array(ports[0..<2])
        sentinelPorts = Array(ports[2...])
        dataNodes = []
        sentinels = []
        do {
            for (index, port) in dataPorts.enumerated() {
                dataNodes.append(try startDataNode(index: index, port: port))
            }
            let quorum = sentinelCount / 2 + 1
            for (index, port) in sentinelPorts.enumerated() {
                sentinels.append(try startSentinel(index: index, port: port, quorum: quorum,
                                                   downAfter: downAfterMilliseconds, failoverTimeout: failoverTimeoutMilliseconds))
            }
            guard waitUntil(seconds: 10, { self.sentinelsAreReady }) else {
                throw RedisServerProcess.Failure(description: "sentinels never saw a healthy replica and each other: "
                    + sentinelPorts.indices.map { sentinelCLI($0).run(["SENTINEL", "replicas", masterName]) }.joined(separator: " | "))
            }
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// `redis-cli` for one Sentinel.
    public func sentinelCLI(_ index: Int) -> RedisCLI { RedisCLI(port: sentinelPorts[index], password: sentinelPassword) }

    /// `redis-cli` for one data node (0 or 1, see `dataPorts`).
    public func dataCLI(_ index: Int) -> RedisCLI { RedisCLI(port: dataPorts[index], password: password) }

    /// The master's port as one Sentinel reports it (`SENTINEL get-master-addr-by-name`); nil when unknown.
    public func reportedMasterPort(sentinel: Int = 0) -> Int? {
        let lines = sentinelCLI(sentinel).lines(["SENTINEL", "get-master-addr-by-name", masterName])
        return lines.count == 2 ? Int(lines[1]) : nil
    }

    /// The first line of `ROLE` on a data node: "master" or "slave" ("" when it is down).
    public func role(ofDataNode index: Int) -> String {
        dataCLI(index).lines(["ROLE"]).first ?? ""
    }

    /// Forces a failover with `SENTINEL FAILOVER`, then waits until every Sentinel names the replica and it says
    /// it is master; the old master is made its replica at once (Sentinel would wait ~8 s before doing so).
    public func failover() throws {
        let promoted = 1 - masterIndex
        // NOGOODSLAVE while the Sentinel's view of the replica is still settling (just after start or a failover).
        var answer = ""
        let accepted = waitUntil(seconds: 10) {
            answer = sentinelCLI(0).run(["SENTINEL", "FAILOVER", masterName])
            return answer == "OK"
        }
        guard accepted else { throw failure("SENTINEL FAILOVER: \(answer)") }
        try waitForPromotion(of: promoted)
        let demoted = 1 - promoted
        if dataNodes[demoted].isRunning {
            let reply = dataCLI(demoted).run(["REPLICAOF", "127.0.0.1", String(dataPorts[promoted])])
            guard reply.hasPrefix("OK") else { throw failure("REPLICAOF on the old master: \(reply)") }
        }
    }

    /// Kills the master with SIGKILL; with `waitForFailover`, waits until the Sentinels have promoted the replica.
    public func killMaster(waitForFailover: Bool = true) throws {
        let old = masterIndex
        dataNodes[old].stop()
        if waitForFailover { try waitForPromotion(of: 1 - old) }
    }

    /// Kills every process and deletes the directory.
    public func stop() {
        for sentinel in sentinels { sentinel.stop() }
        for node in dataNodes { node.stop() }
        sentinels = []
        dataNodes = []
        directory.remove()
    }

    private func waitForPromotion(of index: Int) throws {
        let port = dataPorts[index]
        let done = waitUntil(seconds: 20) {
            role(ofDataNode: index) == "master" && sentinelPorts.indices.allSatisfy { reportedMasterPort(sentinel: $0) == port }
        }
        guard done else {
            throw failure("replica on \(port) was not promoted: role \(role(ofDataNode: index)), sentinels report "
                + "\(sentinelPorts.indices.map { reportedMasterPort(sentinel: $0).map(String.init) ?? "nil" })")
        }
        masterIndex = index
    }

    /// Every Sentinel lists the replica with flags `slave` and link `ok`, and knows all the other Sentinels.
    private var sentinelsAreReady: Bool {
        sentinelPorts.indices.allSatisfy { index in
            let cli = sentinelCLI(index)
            let replicas = Self.records(cli.lines(["SENTINEL", "replicas", masterName]))
            let healthy = replicas.contains {
                $0["port"] == String(replicaPort) && $0["flags"] == "slave" && $0["master-link-status"] == "ok"
            }
            let others = Self.records(cli.lines(["SENTINEL", "sentinels", masterName])).count
            return healthy && others == sentinelPorts.count - 1
        }
    }

    /// Splits redis-cli's raw output of a list of field/value maps into dictionaries (each starts at `name`).
    private static func records(_ lines: [String]) -> [[String: String]] {
        var result: [[String: String]] = []
        var index = 0
        while index + 1 < lines.count {
            if lines[index] == "name" { result.append([:]) }
            if !result.isEmpty { result[result.count - 1][lines[index]] = lines[index + 1] }
            index += 2
        }
        return result
    }

    private func startDataNode(index: Int, port: Int) throws -> RedisChildProcess {
        var args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path,
                    "--dbfilename", "dump-\(index).rdb", "--save", "", "--appendonly", "no", "--daemonize", "no",
                    "--loglevel", "notice",
                    // The default waits 5 s for more replicas before a full sync; the replica must be online at once.
                    "--repl-diskless-sync-delay", "0"]
        // Both nodes get masterauth: either may become the other's replica after a failover.
        if let password { args += ["--requirepass", password, "--masterauth", password] }
        if index == 1 { args += ["--replicaof", "127.0.0.1", String(dataPorts[0])] }
        return try RedisChildProcess(port: port, arguments: args, logFile: directory.file("data-\(index).log")) {
            RedisServerProcess.answersPing(port: port)
        }
    }

    private func startSentinel(index: Int, port: Int, quorum: Int, downAfter: Int, failoverTimeout: Int) throws -> RedisChildProcess {
        var config = """
            port \(port)
            bind 127.0.0.1
            daemonize no
            dir \(directory.path)
            sentinel monitor \(masterName) 127.0.0.1 \(dataPorts[0]) \(quorum)
            sentinel down-after-milliseconds \(masterName) \(downAfter)
            sentinel failover-timeout \(masterName) \(failoverTimeout)
            sentinel parallel-syncs \(masterName) 1

            """
        if let password { config += "sentinel auth-pass \(masterName) \(password)\n" }
        if let sentinelPassword { config += "requirepass \(sentinelPassword)\nsentinel sentinel-pass \(sentinelPassword)\n" }
        // Sentinel rewrites its config file, so each needs its own writable copy.
        let file = directory.file("sentinel-\(index).conf")
        try config.write(toFile: file, atomically: false, encoding: .utf8)
        return try RedisChildProcess(port: port, arguments: [file, "--sentinel"], logFile: directory.file("sentinel-\(index).log")) {
            RedisServerProcess.answersPing(port: port)
        }
    }

    private func failure(_ message: String) -> RedisServerProcess.Failure {
        RedisServerProcess.Failure(description: "sentinel setup: \(message)")
    }
}
