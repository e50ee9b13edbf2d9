import Foundation

/// A real three-master Redis Cluster (no replicas) on free loopback ports, each node with its own temp dir.
public final class RedisClusterProcess {
    public let ports: [Int]
    public let password: String?
    /// Each node's cluster id (`CLUSTER MYID`), index-aligned with `ports`.
    public let nodeIDs: [String]
    private var nodes: [RedisChildProcess]
    private let directories: [TemporaryDirectory]

    /// Starts `masters` nodes (redis-cli needs at least 3), joins them with `redis-cli --cluster create` and waits
    /// until every node reports `cluster_state:ok`.
    public init(masters: Int = 3, password: String? = nil, arguments: [String] = []) throws {
        self.password = password
        var ports: [Int] = []
        var nodes: [RedisChildProcess] = []
        var directories: [TemporaryDirectory] = []
        // Bus ports are chosen too: the default (port + 10000) may be taken or above 65535.
        let allPorts = try RedisChildProcess.freePorts(2 * masters)
        for index in 0..<masters {
            let port = allPorts[2 * index]
            let busPort = allPorts[2 * index + 1]
            let directory = try TemporaryDirectory(prefix: "sgw-redis-cluster-")
            var args = ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                        "--cluster-port", String(busPort), "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "5000", "--dir", directory.path, "--save", "", "--appendonly", "no",
                        "--daemonize", "no", "--loglevel", "notice"]
            if let password { args += ["--requirepass", password, "--masterauth", password] }
            directories.append(directory)
            nodes.append(try RedisChildProcess(port: port, arguments: args + arguments, logFile: directory.file("redis.log")) {
                RedisServerProcess.answersPing(port: port)
            })
            ports.append(port)
        }
        self.ports = ports
        self.nodes = nodes
        self.directories = directories
        nodeIDs = ports.map { RedisCLI(port: $0, password: password).run(["CLUSTER", "MYID"]) }

        var create = ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "0", "--cluster-yes"]
        if let password { create += ["-a", password, "--no-auth-warning"] }
        let output = Self.runCLI(create)
        guard output.contains("[OK] All 16384 slots covered") else {
            stop()
            throw RedisServerProcess.Failure(description: "redis-cli --cluster create failed: \(output)")
        }
        guard waitUntil(seconds: 10, { self.isHealthy }) else {
            let states = ports.indices.map { cli(node: $0).run(["CLUSTER", "INFO"]) }
            stop()
            throw RedisServerProcess.Failure(description: "cluster did not reach cluster_state:ok: \(states)")
        }
    }

    deinit { stop() }

    /// `redis-cli` for one node, logged in.
    public func cli(node: Int) -> RedisCLI { RedisCLI(port: ports[node], password: password) }

    /// Whether every node says `cluster_state:ok` and knows every other node.
    public var isHealthy: Bool {
        ports.indices.allSatisfy { node in
            cli(node: node).info(["CLUSTER", "INFO"], field: "cluster_state") == "ok"
                && cli(node: node).info(["CLUSTER", "INFO"], field: "cluster_known_nodes") == String(ports.count)
        }
    }

    /// The number of keys on one node (`DBSIZE`).
    public func keyCount(node: Int) -> Int {
        Int(cli(node: node).run(["DBSIZE"])) ?? -1
    }

    /// The index of the node that owns `slot` according to `node`'s `CLUSTER NODES`; nil if none does.
    public func owner(ofSlot slot: Int, accordingTo node: Int = 0) -> Int? {
        for line in cli(node: node).lines(["CLUSTER", "NODES"]) {
            let fields = line.split(separator: " ")
            // <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges...>
            guard fields.count >= 8, fields[2].contains("master"), let index = nodeIDs.firstIndex(of: String(fields[0]))
            else { continue }
            for range in fields.dropFirst(8) where !range.hasPrefix("[") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                if let low = bounds.first, let high = bounds.last, (low...high).contains(slot) { return index }
            }
        }
        return nil
    }

    /// Migrates `slot` and its keys to node `target` the way `redis-cli --cluster reshard` does (IMPORTING/MIGRATING,
    /// MIGRATE, then SETSLOT NODE on every master), so a client holding the old map now gets MOVED.
    public func moveSlot(_ slot: Int, to target: Int) throws {
        guard let source = owner(ofSlot: slot) else { throw failure("slot \(slot) has no owner") }
        guard source != target else { return }
        try beginMigration(ofSlot: slot, to: target)
        try migrateKeys(inSlot: slot, to: target)
        try finishMigration(ofSlot: slot, to: target)
    }

    /// Marks `slot` MIGRATING on its owner and IMPORTING on `target`; until it finishes, the owner answers ASK for
    /// keys of the slot it no longer has (the state a client's ASK handling is tested in).
    public func beginMigration(ofSlot slot: Int, to target: Int) throws {
        guard let source = owner(ofSlot: slot) else { throw failure("slot \(slot) has no owner") }
        try expectOK(cli(node: target).run(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", nodeIDs[source]]), "IMPORTING")
        try expectOK(cli(node: source).run(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", nodeIDs[target]]), "MIGRATING")
    }

    /// MIGRATEs up to `limit` keys of `slot` (all when nil) from its owner to `target`. Keys are read from redis-cli's
    /// line output, so keys containing a newline are not supported.
    public func migrateKeys(inSlot slot: Int, to target: Int, limit: Int? = nil) throws {
        guard let source = owner(ofSlot: slot) else { throw failure("slot \(slot) has no owner") }
        var remaining = limit ?? Int.max
        while remaining > 0 {
            let batch = String(min(remaining, 100))
            let keys = cli(node: source).lines(["CLUSTER", "GETKEYSINSLOT", String(slot), batch]).filter { !$0.isEmpty }
            if keys.isEmpty { break }
            var migrate = ["MIGRATE", "127.0.0.1", String(ports[target]), "", "0", "5000"]
            if let password { migrate += ["AUTH", password] }
            migrate += ["KEYS"] + keys
            try expectOK(cli(node: source).run(migrate), "MIGRATE")
            remaining -= keys.count
        }
    }

    /// Gives `slot` to `target` on every master (target first, then the old owner, then the rest) and waits until
    /// all agree.
    public func finishMigration(ofSlot slot: Int, to target: Int) throws {
        guard let source = owner(ofSlot: slot) else { throw failure("slot \(slot) has no owner") }
        // Target first: once it owns the slot it bumps its epoch, so the others' gossip cannot undo the move.
        let order = [target] + ([source] + ports.indices.filter { $0 != source }).filter { $0 != target }
        for node in order {
            try expectOK(cli(node: node).run(["CLUSTER", "SETSLOT", String(slot), "NODE", nodeIDs[target]]),
                         "SETSLOT NODE on \(node)")
        }
        guard waitUntil(seconds: 10, { ports.indices.allSatisfy { owner(ofSlot: slot, accordingTo: $0) == target } }) else {
            throw failure("nodes disagree on slot \(slot) after the move")
        }
    }

    /// Kills every node and deletes their directories.
    public func stop() {
        for node in nodes { node.stop() }
        nodes = []
        for directory in directories { directory.remove() }
    }

    private func expectOK(_ output: String, _ step: String) throws {
        guard output == "OK" else { throw failure("\(step): \(output)") }
    }

    private func failure(_ message: String) -> RedisServerProcess.Failure {
        RedisServerProcess.Failure(description: "cluster: \(message)")
    }

    /// `redis-cli` with no target node (for `--cluster` subcommands, which name their nodes).
    private static func runCLI(_ args: [String]) -> String {
        RedisCLI(port: 0).runRaw(args)
    }
}
