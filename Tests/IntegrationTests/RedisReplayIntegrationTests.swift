import Foundation
import GatewayConfig
import GatewayCore
import Testing
import TestSupport

/// `replay.store: redis` through the in-process gateway: GatewayServer builds the store from `config.replay`.
/// Each test runs its own real `redis-server` and SIGKILLs it at the end.
@Suite("Replay store: redis, end to end", .serialized)
struct RedisReplayIntegrationTests {
    static let keyPrefix = "sgw-it:"

    static func stack(_ redis: RedisServerProcess, onUnavailable: RedisUnavailablePolicy = .reject) throws -> TestStack {
        try TestStack(loops: 1) { c in
            c.replay.store = .redis
            c.replay.redis.url = redis.url
            c.replay.redis.keyPrefix = keyPrefix
            // Generous: a loaded machine must not turn a healthy Redis into `unavailable`.
            c.replay.redis.timeout = .seconds(2)
            c.replay.redis.onUnavailable = onUnavailable
        }
    }

    static func readyz(_ stack: TestStack) throws -> Int? {
        let client = try RawClient(port: try #require(stack.adminPort))
        client.send(httpRequest("GET", "/readyz"))
        return client.readResponse()?.status
    }

    @Test("first use 200, second use 401 token_replayed; the key lives in Redis until exp")
    func singleUse() throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let stack = try Self.stack(redis)
        defer { stack.stop() }
        #expect(try Self.readyz(stack) == 200)

        let jti = UUID().uuidString
        let token = Tok.valid(jti: jti)
        let first = try stack.send("GET", "/orders", token: token)
        #expect(first.status == 200, "first use: \(first.bodyText)")
        #expect(first.echoedHeaders["x-shop-domain"] == "a.myshopify.com")

        let key = "\(Self.keyPrefix)\(TestStack.clientId):\(jti)"
        #expect(redis.command("EXISTS \(key)") == ":1\r\n")
        // Expires with the token (exp + clock_skew, about 310 s here), never persists.
        let ttl = Int(redis.command("TTL \(key)").dropFirst().dropLast(2)) ?? -99
        #expect(ttl > 0 && ttl <= 312, "TTL \(ttl)")

        let second = try stack.send("GET", "/orders", token: token)
        expectAnswer(second, status: 401, code: "token_replayed")
        #expect(second.header("WWW-Authenticate") == #"Bearer error="invalid_token", error_description="token_replayed""#)
        #expect(second.header("X-Shopify-Retry-Invalid-Session-Request") == "1")

        // Another token is unaffected.
        #expect(try stack.send("GET", "/orders", token: Tok.valid()).status == 200)
    }

    @Test("a second gateway sharing the Redis sees a token used on the first as replayed, both ways")
    func sharedAcrossGateways() throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let a = try Self.stack(redis)
        defer { a.stop() }
        let b = try Self.stack(redis)
        defer { b.stop() }
        #expect(a.port != b.port)

        let usedOnA = Tok.valid()
        #expect(try a.send("GET", "/orders", token: usedOnA).status == 200)
        expectAnswer(try b.send("GET", "/orders", token: usedOnA), status: 401, code: "token_replayed")

        let usedOnB = Tok.valid()
        #expect(try b.send("GET", "/orders", token: usedOnB).status == 200)
        expectAnswer(try a.send("GET", "/orders", token: usedOnB), status: 401, code: "token_replayed")
    }

    @Test("Redis down with on_unavailable: reject -> 503 replay_store_unavailable and /readyz 503; back up -> 200")
    func unavailableRejects() throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let stack = try Self.stack(redis, onUnavailable: .reject)
        defer { stack.stop() }
        #expect(try stack.send("GET", "/orders", token: Tok.valid()).status == 200)

        redis.stop()
        let r = try stack.send("GET", "/orders", token: Tok.valid())
        expectAnswer(r, status: 503, code: "replay_store_unavailable")
        #expect(r.header("WWW-Authenticate") == nil)
        #expect(try Self.readyz(stack) == 503)
        // Routes without a token never ask the store.
        #expect(try stack.send("GET", "/public/x").status == 200)

        // The store reconnects once Redis is back (same port): ready again and admitting.
        try redis.start()
        #expect(try Self.readyz(stack) == 200)
        #expect(try stack.send("GET", "/orders", token: Tok.valid()).status == 200)
    }

    @Test("Redis down with on_unavailable: allow -> requests pass (replay is not enforced meanwhile)")
    func unavailableAllows() throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let stack = try Self.stack(redis, onUnavailable: .allow)
        defer { stack.stop() }
        #expect(try stack.send("GET", "/orders", token: Tok.valid()).status == 200)

        redis.stop()
        let token = Tok.valid()
        let first = try stack.send("GET", "/orders", token: token)
        #expect(first.status == 200, "allow: \(first.bodyText)")
        #expect(first.echoedHeaders["x-shop-domain"] == "a.myshopify.com")
        #expect(try stack.send("GET", "/orders", token: token).status == 200)
    }
}

/// The access log names a store refusal in `auth`, not the token's `accepted`.
@Suite("Replay store: refusals in the access log", .serialized)
struct ReplayStoreRefusalLogTests {
    @Test("Redis at a closed port with on_unavailable: reject -> 503 replay_store_unavailable, logged with that auth")
    func unavailableIsTheLoggedAuth() throws {
        let closed = try RedisServerProcess.freePort()  // nothing listens here
        let stack = try TestStack(loops: 1) { c in
            c.replay.store = .redis
            c.replay.redis.url = "redis://127.0.0.1:\(closed)/0"
            c.replay.redis.timeout = .seconds(2)
            c.replay.redis.onUnavailable = .reject
        }
        defer { stack.stop() }
        let r = try stack.send("GET", "/orders", token: Tok.valid())
        expectAnswer(r, status: 503, code: "replay_store_unavailable")

        stack.gateway.flushLogs()
        let lines = stack.log.all.filter { $0.contains(#""path":"/orders""#) }
        #expect(lines.count == 1, "\(stack.log.all)")
        #expect(lines.first?.contains(#""status":503"#) == true, "\(lines)")
        #expect(lines.first?.contains(#""auth":"replay_store_unavailable""#) == true, "\(lines)")
    }

    @Test("memory store at max_entries -> 503 replay_store_full, logged with that auth")
    func fullIsTheLoggedAuth() throws {
        let stack = try TestStack(loops: 1) { c in
            c.replay.store = .memory
            c.replay.maxEntries = 1
        }
        defer { stack.stop() }
        #expect(try stack.send("GET", "/orders", token: Tok.valid()).status == 200)
        let r = try stack.send("GET", "/orders", token: Tok.valid())
        expectAnswer(r, status: 503, code: "replay_store_full")

        stack.gateway.flushLogs()
        let lines = stack.log.all.filter { $0.contains(#""path":"/orders""#) }
        #expect(lines.count == 2, "\(stack.log.all)")
        #expect(lines.last?.contains(#""auth":"replay_store_full""#) == true, "\(lines)")
    }
}
