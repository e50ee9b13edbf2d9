import Foundation
import GatewayConfig
import GatewayCore
import GatewayReplay
import Testing
import TestSupport

/// `redis+cluster://` end to end: a real three-master Redis Cluster (no replicas), the gateway in process (`TestStack`)
/// or as two real processes (the race), real HTTP clients. Each test makes its own cluster and kills it at the end.
@Suite("Replay store: Redis Cluster, end to end", .serialized)
struct RedisClusterIntegrationTests {
    /// The default `key_prefix`: the tests compute slots from the key the gateway writes.
    static let keyPrefix = "sgw:jti:"

    static func key(_ jti: String) -> String { "\(keyPrefix)\(TestStack.clientId):\(jti)" }
    static func slot(ofJTI jti: String) -> Int { RedisClusterSlot.slot(forKey: key(jti)) }

    /// `redis+cluster://` naming only the nodes at `seeds` (the gateway learns the rest from `CLUSTER SLOTS`).
    static func url(_ cluster: RedisClusterProcess, seeds: [Int]) -> String {
        "redis+cluster://" + seeds.map { "127.0.0.1:\(cluster.ports[$0])" }.joined(separator: ",")
    }

    static func stack(_ cluster: RedisClusterProcess, seeds: [Int], password: String? = nil, loops: Int = 2) throws -> TestStack {
        try TestStack(loops: loops) { c in
            c.replay.store = .redis
            c.replay.redis.url = url(cluster, seeds: seeds)
            c.replay.redis.password = password.map { Secret(source: .env("REDIS_PASSWORD"), bytes: Array($0.utf8)) }
            // Generous: a loaded machine must not turn a healthy cluster into `unavailable`.
            c.replay.redis.timeout = .seconds(3)
            c.replay.redis.onUnavailable = .reject
        }
    }

    static func readyz(_ stack: TestStack) throws -> Int? { try RedisReplayIntegrationTests.readyz(stack) }

    static func use(_ stack: TestStack, _ jti: String) throws -> HTTPTestResponse {
        try stack.send("GET", "/orders", token: Tok.valid(jti: jti))
    }

    @Test("one seed of three: 300 fresh tokens are 200 and spread over every master, each replay 401; MOVED followed")
    func spreadsOverEveryMasterAndFollowsMOVED() throws {
        let cluster = try RedisClusterProcess()
        defer { cluster.stop() }
        let stack = try Self.stack(cluster, seeds: [0])
        defer { stack.stop() }
        #expect(try Self.readyz(stack) == 200)

        let jtis = (0..<300).map { "spread-\($0)-\(UUID().uuidString)" }
        var tokens: [String] = []
        for jti in jtis {
            let token = Tok.valid(jti: jti)
            tokens.append(token)
            let r = try stack.send("GET", "/orders", token: token)
            #expect(r.status == 200, "\(jti): \(r.bodyText)")
        }
        let counts = (0..<3).map { cluster.keyCount(node: $0) }
        for node in 0..<3 { #expect(counts[node] > 0, "node \(node) holds no key: \(counts)") }
        #expect(counts.reduce(0, +) == 300, "\(counts)")
        for token in tokens {
            expectAnswer(try stack.send("GET", "/orders", token: token), status: 401, code: "token_replayed")
        }

        // The slot of a used key moves to another master: its replay is still found (MOVED), and a new token in that
        // slot is admitted and written on the new owner.
        let used = jtis[7]
        let slot = Self.slot(ofJTI: used)
        let owner = try #require(cluster.owner(ofSlot: slot))
        let target = (owner + 1) % 3
        try cluster.moveSlot(slot, to: target)
        #expect(Self.holds(cluster, node: target, used))
        expectAnswer(try stack.send("GET", "/orders", token: tokens[7]), status: 401, code: "token_replayed")
        for jti in Self.jtis(inSlot: slot, count: 2, prefix: "moved") {
            #expect(try Self.use(stack, jti).status == 200)
            #expect(Self.holds(cluster, node: target, jti), "\(jti) not on the new owner \(target)")
            expectAnswer(try Self.use(stack, jti), status: 401, code: "token_replayed")
        }
        // Both loops' maps: every earlier token is still a replay.
        for token in tokens.prefix(60) {
            expectAnswer(try stack.send("GET", "/orders", token: token), status: 401, code: "token_replayed")
        }
        #expect(try Self.readyz(stack) == 200)
    }

    @Test("during a slot migration: keys already moved are found with ASK (401), new keys are admitted (200)",
          arguments: [nil, "Cluster-Pw-3e9a17"] as [String?])
    func followsASKDuringAMigration(password: String?) throws {
        // With a password, the ASK may be the first command on a new connection: AUTH, then ASKING, then SET.
        let cluster = try RedisClusterProcess(password: password)
        defer { cluster.stop() }
        let stack = try Self.stack(cluster, seeds: [1, 2], password: password)
        defer { stack.stop() }

        let (slot, inSlot) = Self.crowdedSlot(candidates: 40_000, prefix: "ask")
        try #require(inSlot.count >= 8, "slot \(slot) has \(inSlot.count) candidates")
        let used = Array(inSlot.prefix(6))
        let fresh = Array(inSlot.dropFirst(6).prefix(2))
        for jti in used { #expect(try Self.use(stack, jti).status == 200) }
        let source = try #require(cluster.owner(ofSlot: slot))
        let target = (source + 2) % 3
        for jti in used { #expect(Self.holds(cluster, node: source, jti)) }

        try cluster.beginMigration(ofSlot: slot, to: target)
        try cluster.migrateKeys(inSlot: slot, to: target, limit: 3)
        let moved = used.filter { Self.holds(cluster, node: target, $0) }
        #expect(moved.count == 3, "moved: \(moved)")
        // The moved keys are answered by the target after ASK; the others still by the source.
        for jti in used { expectAnswer(try Self.use(stack, jti), status: 401, code: "token_replayed") }
        // The source does not have a new key, so it sends it to the importing target with ASK.
        for jti in fresh {
            let r = try Self.use(stack, jti)
            #expect(r.status == 200, "\(jti): \(r.bodyText)")
            #expect(Self.holds(cluster, node: target, jti), "\(jti) should be written on the importing node")
            expectAnswer(try Self.use(stack, jti), status: 401, code: "token_replayed")
        }
        #expect(try Self.readyz(stack) == 200)

        try cluster.migrateKeys(inSlot: slot, to: target)
        try cluster.finishMigration(ofSlot: slot, to: target)
        for jti in used + fresh { expectAnswer(try Self.use(stack, jti), status: 401, code: "token_replayed") }
        let later = Self.jtis(inSlot: slot, count: 1, prefix: "after-ask")[0]
        #expect(try Self.use(stack, later).status == 200)
        #expect(Self.holds(cluster, node: target, later))
    }

    @Test("a master dies (no replicas): /readyz 503, its keys 503 replay_store_unavailable, the other masters' keys work")
    func deadMasterFailsOnlyItsSlots() throws {
        // Without full coverage the surviving masters keep serving their slots once the cluster marks the dead one FAIL;
        // a node timeout of 3 s (the fixture's is 5 s) gets there sooner and is still far above a loaded machine's pauses.
        let cluster = try RedisClusterProcess(arguments: ["--cluster-require-full-coverage", "no", "--cluster-node-timeout", "3000"])
        defer { cluster.stop() }
        let victim = 1
        // The victim is one of the two seeds: the gateway must not depend on it to find the others.
        let stack = try Self.stack(cluster, seeds: [0, 1])
        defer { stack.stop() }
        #expect(try Self.readyz(stack) == 200)

        let byNode = try Self.jtisByOwner(cluster, perNode: 4, prefix: "dead")
        let survivors = [0, 2]
        let usedBefore = survivors.map { byNode[$0]![0] }
        for jti in usedBefore { #expect(try Self.use(stack, jti).status == 200) }
        #expect(try Self.use(stack, byNode[victim]![0]).status == 200)

        _ = cluster.cli(node: victim).run(["SHUTDOWN", "NOSAVE"])
        #expect(Self.poll(seconds: 10) { !RedisServerProcess.answersPing(port: cluster.ports[victim]) })

        func expectOnlyVictimFails(round: Int) throws {
            #expect(try Self.readyz(stack) == 503, "round \(round)")
            let victimJTI = byNode[victim]![round]
            expectAnswer(try Self.use(stack, victimJTI), status: 503, code: "replay_store_unavailable")
            for node in survivors {
                let r = try Self.use(stack, byNode[node]![round])
                #expect(r.status == 200, "round \(round), node \(node): \(r.bodyText)")
            }
            for jti in usedBefore { expectAnswer(try Self.use(stack, jti), status: 401, code: "token_replayed") }
        }
        // At once, while the cluster still thinks the node is up...
        try expectOnlyVictimFails(round: 1)
        // ...and once the survivors have marked it FAIL (cluster-node-timeout, 3 s here).
        let victimID = cluster.nodeIDs[victim]
        let marked = Self.poll(seconds: 12) {
            survivors.allSatisfy { node in
                cluster.cli(node: node).lines(["CLUSTER", "NODES"]).contains {
                    $0.hasPrefix(victimID) && $0.split(separator: " ")[2].split(separator: ",").contains("fail")
                }
            }
        }
        #expect(marked, "the survivors never marked node \(victim) FAIL")
        try expectOnlyVictimFails(round: 2)

        // A gateway started now, whose first seed is the dead master, still finds the map from the other seed.
        let late = try Self.stack(cluster, seeds: [victim, 0])
        defer { late.stop() }
        for node in survivors {
            let r = try Self.use(late, byNode[node]![3])
            #expect(r.status == 200, "late gateway, node \(node): \(r.bodyText)")
        }
        expectAnswer(try Self.use(late, byNode[victim]![3]), status: 503, code: "replay_store_unavailable")
        #expect(try Self.readyz(late) == 503)
    }

    @Test("a master that hangs (SIGSTOP): its keys 503 after the timeout, the others unaffected; back once it resumes")
    func hungMasterFailsOnlyItsSlotsAndRecovers() throws {
        let cluster = try RedisClusterProcess(arguments: ["--cluster-require-full-coverage", "no"])
        defer { cluster.stop() }
        // The hung master is the only seed and the first node a map refresh asks: a refresh stuck on it must not
        // hold up the keys of the other masters.
        let victim = 0
        let stack = try TestStack(loops: 2) { c in
            c.replay.store = .redis
            c.replay.redis.url = Self.url(cluster, seeds: [victim])
            c.replay.redis.timeout = .seconds(1)
        }
        defer { stack.stop() }
        let byNode = try Self.jtisByOwner(cluster, perNode: 3, prefix: "hung")
        // For after the resume (asked now: CLUSTER NODES goes to node 0, the one about to hang).
        let spare = try #require(try Self.jtisByOwner(cluster, perNode: 1, prefix: "resumed")[victim])
        for node in 0..<3 { #expect(try Self.use(stack, byNode[node]![0]).status == 200) }

        let pidText = try #require(cluster.cli(node: victim).info(["INFO", "server"], field: "process_id"))
        let pid = try #require(Int32(pidText))
        kill(pid, SIGSTOP)
        var resumed = false
        defer { if !resumed { kill(pid, SIGCONT) } }

        expectAnswer(try Self.use(stack, byNode[victim]![1]), status: 503, code: "replay_store_unavailable")
        for node in [1, 2] {
            let r = try Self.use(stack, byNode[node]![1])
            #expect(r.status == 200, "node \(node) while \(victim) hangs: \(r.bodyText)")
            expectAnswer(try Self.use(stack, byNode[node]![0]), status: 401, code: "token_replayed")
        }
        #expect(try Self.readyz(stack) == 503)

        kill(pid, SIGCONT)
        resumed = true
        // Each loop reconnects on its next command once its backoff (set while the master hung) is over, and /readyz
        // asks only the loop it lands on. So the test waits for the master's keys themselves, probing with the replay
        // of a used token (which consumes nothing): four answers in a row, so each loop has had its turn. Waiting for
        // the reconnects, not timing them.
        var inARow = 0
        #expect(Self.poll(seconds: 10) {
            let r = try? Self.use(stack, byNode[victim]![0])
            inARow = r?.status == 401 ? inARow + 1 : 0
            return inARow >= 4
        }, "the resumed master never answered again")
        let fresh = try #require(spare.first)
        #expect(try Self.use(stack, fresh).status == 200)
        expectAnswer(try Self.use(stack, fresh), status: 401, code: "token_replayed")
        #expect(try Self.readyz(stack) == 200)
    }

    @Test("a cluster with requirepass: the right password admits and rejects replays; a wrong one is 503")
    func clusterWithPassword() throws {
        let password = "Cluster-Pw-0b7d54"
        let cluster = try RedisClusterProcess(password: password)
        defer { cluster.stop() }
        let stack = try Self.stack(cluster, seeds: [2], password: password)
        defer { stack.stop() }
        #expect(try Self.readyz(stack) == 200)

        let jtis = (0..<60).map { "auth-\($0)" }
        for jti in jtis { #expect(try Self.use(stack, jti).status == 200) }
        for jti in jtis { expectAnswer(try Self.use(stack, jti), status: 401, code: "token_replayed") }
        let counts = (0..<3).map { cluster.keyCount(node: $0) }
        for node in 0..<3 { #expect(counts[node] > 0, "node \(node): \(counts)") }
        #expect(counts.reduce(0, +) == 60, "\(counts)")

        let wrong = try Self.stack(cluster, seeds: [0], password: "not-the-password")
        defer { wrong.stop() }
        expectAnswer(try Self.use(wrong, "wrong-pw"), status: 503, code: "replay_store_unavailable")
        #expect(try Self.readyz(wrong) == 503)
    }

    @Test("two gateway processes on one cluster, the same 200 tokens sent to both from 8 threads: never two 200s")
    func twoGatewaysRaceForEachToken() throws {
        let cluster = try RedisClusterProcess()
        defer { cluster.stop() }
        let (a, b) = try Self.twoGateways(cluster)
        defer { a.stop(); b.stop() }

        let tokens = (0..<200).map { _ in Tok.valid() }
        let results = Self.race(tokens, ports: [a.listen, b.listen])
        Self.expectAdmitted(results, tokens: tokens.count, attempts: 4) { _ in 1 }
        #expect((0..<3).map { cluster.keyCount(node: $0) }.reduce(0, +) == tokens.count)
    }

    @Test("two gateway processes race for tokens of a slot being migrated: used ones never 200, new ones exactly once")
    func twoGatewaysRaceDuringAMigration() throws {
        let cluster = try RedisClusterProcess()
        defer { cluster.stop() }
        let (a, b) = try Self.twoGateways(cluster)
        defer { a.stop(); b.stop() }

        let (slot, inSlot) = Self.crowdedSlot(candidates: 40_000, prefix: "race")
        try #require(inSlot.count >= 8, "slot \(slot) has \(inSlot.count) candidates")
        let tokens = inSlot.map { Tok.valid(jti: $0) }
        let usedCount = inSlot.count / 2
        for token in tokens.prefix(usedCount) { #expect(try a.get("/api/x", token: token)?.status == 200) }
        let source = try #require(cluster.owner(ofSlot: slot))
        let target = (source + 1) % 3
        try cluster.beginMigration(ofSlot: slot, to: target)
        try cluster.migrateKeys(inSlot: slot, to: target, limit: usedCount / 2)

        // Used tokens: some answered by the source, some after ASK by the target; new ones are written on the target.
        let results = Self.race(tokens, ports: [a.listen, b.listen])
        Self.expectAdmitted(results, tokens: tokens.count, attempts: 4) { $0 < usedCount ? 0 : 1 }
        for jti in inSlot.dropFirst(usedCount) { #expect(Self.holds(cluster, node: target, jti), "\(jti)") }
    }
}
