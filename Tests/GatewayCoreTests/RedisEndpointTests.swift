import GatewayCore
import Testing

/// The one parser of `replay.redis.url`, shared by `check` and the Redis store.
@Suite struct RedisEndpointTests {
    static let password = "s3cret-Quokka"

    @Test func acceptedForms() throws {
        #expect(try RedisEndpoint(url: "redis://127.0.0.1") == RedisEndpoint(host: "127.0.0.1"))
        #expect(try RedisEndpoint(url: "redis://127.0.0.1:6379/0") == RedisEndpoint(host: "127.0.0.1"))
        #expect(try RedisEndpoint(url: "REDIS://cache.internal:6380/") == RedisEndpoint(host: "cache.internal", port: 6380))
        #expect(try RedisEndpoint(url: "redis://[::1]:7000/2") == RedisEndpoint(host: "::1", port: 7000, database: 2))
        #expect(try RedisEndpoint(url: "redis://[::1]") == RedisEndpoint(host: "::1"))
        #expect(try RedisEndpoint(url: "redis://:\(Self.password)@host:6379/0")
            == RedisEndpoint(host: "host", password: Array(Self.password.utf8)))
        #expect(try RedisEndpoint(url: "redis://sgw:p%40ss:w@cache.internal:6380/3")
            == RedisEndpoint(host: "cache.internal", port: 6380, database: 3, username: "sgw", password: Array("p@ss:w".utf8)))
        // A raw `@` in the password: the last `@` ends the user info.
        #expect(try RedisEndpoint(url: "redis://:a@b@h").password == Array("a@b".utf8))
        #expect(try RedisEndpoint(url: "redis://:pw@[::1]:6379/3") == RedisEndpoint(host: "::1", database: 3, password: Array("pw".utf8)))
    }

    @Test(arguments: [
        ("http://127.0.0.1:6379", RedisURLError.notARedisURL),
        ("127.0.0.1:6379", .notARedisURL),
        ("redis:/h", .notARedisURL),
        ("rediss://h:6380/0", .unsupportedScheme("rediss")),
        ("redis+sentinel://h1:26379,h2:26379/m/0", .unsupportedScheme("redis+sentinel")),
        ("redis+cluster://n1:6379,n2:6379", .unsupportedScheme("redis+cluster")),
        ("rediss+sentinel://h:26379/m", .unsupportedScheme("rediss+sentinel")),
        ("rediss+cluster://n1:6379", .unsupportedScheme("rediss+cluster")),
        ("redis://", .host),
        ("redis://:6379", .host),
        ("redis://h:0", .port),
        ("redis://h:65536", .port),
        ("redis://h:", .port),
        ("redis://h:6379/x", .database),
        ("redis://h:6379/100000", .database),
        ("redis://h:6379/1/2", .database),
        ("redis://h:6379/0?timeout=1", .options),
        ("redis://[::1:6379", .host),
        ("redis://[zz]:6379", .host),
        ("redis://::1:6379", .host),
        ("redis://a b:6379", .host),
        ("redis://pw@h", .userinfo),
        ("redis://user:@h", .userinfo),
        ("redis://:p%4@h", .userinfo),
    ])
    func refusedForms(url: String, expected: RedisURLError) {
        #expect(throws: expected) { try RedisEndpoint(url: url) }
    }

    /// Whatever is wrong with a URL that carries a password, the error text never holds it (nor the user).
    @Test func noErrorTextHoldsThePassword() {
        let urls = [
            "http://sgw:\(Self.password)@h", "\(Self.password)", "rediss://sgw:\(Self.password)@h",
            "redis://sgw:\(Self.password)@h:0", "redis://sgw:\(Self.password)@h/x", "redis://sgw:\(Self.password)@",
            "redis://sgw:\(Self.password)%zz@h", "redis://sgw:\(Self.password)@h?x", "redis://\(Self.password)@h",
            "\(Self.password)://h",
        ]
        for url in urls {
            do {
                _ = try RedisEndpoint(url: url)
                Issue.record("accepted \(url)")
            } catch {
                #expect(!"\(error)".contains(Self.password), "\(url)")
                #expect(!"\(error)".contains("sgw"), "\(url)")
            }
        }
    }

    @Test func textualFormsHideThePassword() throws {
        let e = try RedisEndpoint(url: "redis://sgw:\(Self.password)@cache.internal:6380/3")
        var dumped = ""
        dump(e, to: &dumped)
        for form in [e.description, e.debugDescription, "\(e)", String(reflecting: e), dumped] {
            #expect(!form.contains(Self.password), "\(form)")
        }
        #expect(e.description == "sgw@cache.internal:6380/3")
        #expect(RedisEndpoint(host: "::1").description == "[::1]:6379/0")
    }
}
