@testable import GatewayReplay
import Testing

@Suite struct RedisEndpointTests {
    @Test func parsesFullForm() throws {
        let e = try RedisEndpoint(url: "redis://user:p%40ss@cache.internal:6380/3")
        #expect(e == RedisEndpoint(host: "cache.internal", port: 6380, database: 3, user: "user", password: "p@ss"))
        #expect(e.description == "cache.internal:6380/3")
    }

    @Test func defaults() throws {
        #expect(try RedisEndpoint(url: "redis://127.0.0.1") == RedisEndpoint(host: "127.0.0.1"))
        #expect(try RedisEndpoint(url: "redis://127.0.0.1:6379/0") == RedisEndpoint(host: "127.0.0.1"))
        #expect(try RedisEndpoint(url: "redis://:secret@h/") == RedisEndpoint(host: "h", password: "secret"))
        #expect(try RedisEndpoint(url: "redis://[::1]:7000/2") == RedisEndpoint(host: "::1", port: 7000, database: 2))
    }

    @Test(arguments: ["http://h:1", "redis://", "redis://h:0", "redis://h:99999", "redis://h:x",
                      "redis://h/db", "redis://[::1", "redis://u:%zz@h", "redis://[::1]x"])
    func rejects(url: String) {
        #expect(throws: ReplayStoreError.self) { try RedisEndpoint(url: url) }
    }
}
