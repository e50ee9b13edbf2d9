import Foundation
import GatewayConfig
import GatewayCore
import Synchronization
import Testing
import TestSupport

/// Two in-process gateways sharing one real standalone `redis-server` (SIGKILLed at the end), raced by many client
/// threads that send the same tokens to both at once.
@Suite("Replay store: two gateways racing on one redis, end to end", .serialized)
struct RedisRacingIntegrationTests {
    static func stack(_ redis: RedisServerProcess) throws -> TestStack {
        try TestStack(loops: 2) { c in
            c.replay.store = .redis
            c.replay.redis.url = redis.url
            c.replay.redis.keyPrefix = "sgw-race:"
            // Generous: 2 cores shared by two gateways, the echo backends and the client threads.
            c.replay.redis.timeout = .seconds(3)
            c.replay.redis.onUnavailable = .reject
        }
    }

    /// Sends `tokens` to both gateways from `threads` threads at once (half start on each gateway, and each thread
    /// alternates between them), every thread walking the tokens in the same order so they collide on each one.
    static func race(_ tokens: [String], ports: [Int], threads: Int) -> ReplayLoad {
        let load = ReplayLoad()
        for t in tokens { _ = load.add(t) }
        let group = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        for n in 0..<threads {
            group.enter()
            let thread = Thread {
                start.wait()
                for (i, token) in tokens.enumerated() {
                    load.record(ReplayLoad.send(port: ports[(n + i) % ports.count], token: token, index: i))
                }
                group.leave()
            }
            thread.start()
        }
        for _ in 0..<threads { start.signal() }
        _ = group.wait(timeout: .now() + 60)
        return load
    }

    @Test("300 tokens sent by 8 threads to two gateways at once: exactly one 200 per token, every other answer 401 token_replayed")
    func sameTokensToTwoGateways() throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let a = try Self.stack(redis)
        defer { a.stop() }
        let b = try Self.stack(redis)
        defer { b.stop() }

        let tokens = (0..<300).map { _ in Tok.valid() }
        let threads = 8
        let load = Self.race(tokens, ports: [a.port, b.port], threads: threads)
        let byToken = load.byToken
        #expect(load.all.count == tokens.count * threads, "every request answered: \(load.all.count)")
        var notOnce = 0
        for i in tokens.indices {
            let answers = byToken[i] ?? []
            let admitted = answers.filter { $0.status == 200 }.count
            let replayed = answers.filter { $0.status == 401 && $0.code == "token_replayed" }.count
            if admitted != 1 || replayed != threads - 1 { notOnce += 1 }
            #expect(admitted == 1, "token \(i): \(answers.map(\.summary))")
            #expect(replayed == threads - 1, "token \(i): \(answers.map(\.summary))")
        }
        print("racing two gateways: \(load.all.count) answers \(load.tally); tokens not admitted exactly once: \(notOnce)")
    }

    @Test("Redis killed: both gateways answer 503 replay_store_unavailable; restarted on the same port: 200 again, no gateway restart")
    func redisKilledAndRestarted() throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let a = try Self.stack(redis)
        defer { a.stop() }
        let b = try Self.stack(redis)
        defer { b.stop() }
        for s in [a, b] { #expect(try s.send("GET", "/orders", token: Tok.valid()).status == 200) }

        redis.stop()
        var unavailable = 0
        for s in [a, b] {
            // Both loops of each gateway (connections are per loop): a few requests each.
            for _ in 0..<4 {
                let r = try s.send("GET", "/orders", token: Tok.valid())
                expectAnswer(r, status: 503, code: "replay_store_unavailable")
                if r.status == 503 { unavailable += 1 }
            }
            #expect(try RedisReplayIntegrationTests.readyz(s) == 503)
        }

        try redis.start()
        var polled = 0
        for s in [a, b] {
            var answers: [LoadAnswer] = []
            pollUntil(seconds: 15) {
                let r = ReplayLoad.send(port: s.port, token: Tok.valid(), index: -1)
                answers.append(r)
                if r.status == 200 { return true }
                usleep(30_000)
                return false
            }
            polled += answers.count
            #expect(answers.last?.status == 200, "no admission after Redis came back: \(answers.map(\.summary))")
            for r in answers { #expect(r.isReplayStoreAnswer, "\(r.summary)") }
            #expect(try RedisReplayIntegrationTests.readyz(s) == 200)
        }
        print("racing: redis down: \(unavailable) answers 503; \(polled) requests until both gateways admitted again")

        // Shared again after the restart: a token used on one is replayed on the other, both ways.
        let onA = Tok.valid()
        #expect(try a.send("GET", "/orders", token: onA).status == 200)
        expectAnswer(try b.send("GET", "/orders", token: onA), status: 401, code: "token_replayed")
        let onB = Tok.valid()
        #expect(try b.send("GET", "/orders", token: onB).status == 200)
        expectAnswer(try a.send("GET", "/orders", token: onB), status: 401, code: "token_replayed")
    }
}
