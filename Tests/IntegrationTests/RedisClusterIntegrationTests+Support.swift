import Foundation
import GatewayReplay
import GatewayCore
import Synchronization
import Testing
import TestSupport

/// Finding keys by slot and owner, waiting for the cluster, and racing two gateways: the cluster tests' tools.
extension RedisClusterIntegrationTests {
    /// jtis (`prefix-0`, `prefix-1`, ...) whose keys hash to `slot`; deterministic, so the search costs the same each run.
    static func jtis(inSlot slot: Int, count: Int, prefix: String) -> [String] {
        var found: [String] = []
        var i = 0
        while found.count < count {
            let jti = "\(prefix)-\(i)"
            if Self.slot(ofJTI: jti) == slot { found.append(jti) }
            i += 1
        }
        return found
    }

    /// The slot that most of `candidates` jtis hash to, with those jtis: several keys in one slot without a search
    /// per key.
    static func crowdedSlot(candidates: Int, prefix: String) -> (slot: Int, jtis: [String]) {
        var bySlot: [Int: [String]] = [:]
        for i in 0..<candidates {
            let jti = "\(prefix)-\(i)"
            bySlot[slot(ofJTI: jti), default: []].append(jti)
        }
        let best = bySlot.max { $0.value.count < $1.value.count || ($0.value.count == $1.value.count && $0.key > $1.key) }
        return (best?.key ?? 0, best?.value ?? [])
    }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass: waits for the cluster, never a timing assertion.
    static func poll(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() >= deadline { return false }
            usleep(50_000)
        }
        return true
    }

    /// `perNode` jtis for each master, by the owner of their key's slot (one CLUSTER NODES, not one per jti).
    static func jtisByOwner(_ cluster: RedisClusterProcess, perNode: Int, prefix: String) throws -> [Int: [String]] {
        var owners = [Int?](repeating: nil, count: RedisClusterSlot.count)
        for line in cluster.cli(node: 0).lines(["CLUSTER", "NODES"]) {
            let fields = line.split(separator: " ")
            guard fields.count >= 8, let node = cluster.nodeIDs.firstIndex(of: String(fields[0])) else { continue }
            for range in fields.dropFirst(8) where !range.hasPrefix("[") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                if let low = bounds.first, let high = bounds.last { for slot in low...high { owners[slot] = node } }
            }
        }
        var byNode: [Int: [String]] = [:]
        var i = 0
        while cluster.ports.indices.contains(where: { byNode[$0, default: []].count < perNode }) {
            let jti = "\(prefix)-\(i)"
            i += 1
            let owner = try #require(owners[slot(ofJTI: jti)], "slot of \(jti) has no owner")
            if byNode[owner, default: []].count < perNode { byNode[owner, default: []].append(jti) }
        }
        return byNode
    }

    /// Whether node `node` holds the key of `jti`. Asked with GETKEYSINSLOT, which lists the node's own keys: a plain
    /// EXISTS on a node that is importing the slot (or lost it) answers MOVED instead.
    static func holds(_ cluster: RedisClusterProcess, node: Int, _ jti: String) -> Bool {
        cluster.cli(node: node).lines(["CLUSTER", "GETKEYSINSLOT", String(slot(ofJTI: jti)), "10000"]).contains(key(jti))
    }

    /// Two gateway processes on `cluster`, the first seeded with node 0, the second with nodes 1 and 2.
    static func twoGateways(_ cluster: RedisClusterProcess) throws -> (ServedGateway, ServedGateway) {
        func replay(_ seeds: [Int]) -> String {
            """
            replay:
              store: redis
              redis: {url: "\(Self.url(cluster, seeds: seeds))", timeout: 5s, on_unavailable: reject}

            """
        }
        let a = try ServedGateway(replay: replay([0]))
        do { return (a, try ServedGateway(replay: replay([1, 2]))) } catch {
            a.stop()
            throw error
        }
    }

    /// Sends each token twice to each of `ports` from 8 threads at once and returns each token's statuses (-1: no
    /// answer, -401: a 401 other than token_replayed). A token's attempts sit next to each other in the queue, so
    /// threads take them at the same time.
    static func race(_ tokens: [String], ports: [Int]) -> [Int: [Int]] {
        let attempts = tokens.indices.flatMap { t in (ports + ports).map { (t, $0) } }
        let shared = RaceBoard()
        let group = DispatchGroup()
        for _ in 0..<8 {
            group.enter()
            Thread {
                while true {
                    let i = shared.next.add(1, ordering: .relaxed).oldValue
                    guard i < attempts.count else { break }
                    let (t, port) = attempts[i]
                    var status = -1
                    if let c = try? RawClient(port: port) {
                        c.send(httpRequest("GET", "/api/x", token: tokens[t]))
                        if let r = c.readResponse() {
                            status = r.status
                            if r.status == 401 && r.json?["error"] as? String != "token_replayed" { status = -401 }
                        }
                    }
                    shared.results.withLock { $0[t, default: []].append(status) }
                }
                group.leave()
            }.start()
        }
        // A generous limit: only turns a hang into a failure.
        if group.wait(timeout: .now() + 60) != .success { Issue.record("the racing clients did not finish") }
        return shared.results.withLock { $0 }
    }

    /// Every token of `results` got `admits` 200s (never more) and otherwise only 401 token_replayed.
    static func expectAdmitted(_ results: [Int: [Int]], tokens: Int, attempts: Int, admits: (Int) -> Int,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(results.count == tokens, sourceLocation: sourceLocation)
        var doubles = 0
        for (t, statuses) in results.sorted(by: { $0.key < $1.key }) {
            let admitted = statuses.filter { $0 == 200 }.count
            if admitted > 1 { doubles += 1 }
            #expect(admitted <= 1, "token \(t) admitted \(admitted) times: \(statuses)", sourceLocation: sourceLocation)
            #expect(admitted == admits(t) && statuses.count == attempts && statuses.allSatisfy { $0 == 200 || $0 == 401 },
                    "token \(t): \(statuses)", sourceLocation: sourceLocation)
        }
        #expect(doubles == 0, sourceLocation: sourceLocation)
    }
}

/// What the racing threads share: the next attempt to take, and each token's statuses.
private final class RaceBoard: Sendable {
    let next = Atomic<Int>(0)
    let results = Locked<[Int: [Int]]>([:])
}
