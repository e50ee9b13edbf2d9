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

    @Test func plainRedisIsStandaloneWithoutTLS() throws {
        let e = try RedisEndpoint(url: "redis://cache.internal:6380/3")
        #expect(e.tls == false)
        #expect(e.mode == .standalone)
        #expect(e.nodes == [RedisNodeAddress(host: "cache.internal", port: 6380)])
        #expect(e.scheme == "redis")
    }

    @Test func redissIsStandaloneWithTLS() throws {
        let e = try RedisEndpoint(url: "rediss://sgw:\(Self.password)@cache.internal/2")
        #expect(e == RedisEndpoint(host: "cache.internal", database: 2, username: "sgw", password: Array(Self.password.utf8), tls: true))
        #expect(e.nodes == [RedisNodeAddress(host: "cache.internal", port: 6379)])
        #expect(try RedisEndpoint(url: "RedisS://[::1]:6380").port == 6380)
    }

    @Test func sentinelListsSentinelsAndNamesTheMaster() throws {
        let e = try RedisEndpoint(url: "redis+sentinel://:\(Self.password)@s1,s2:26380,[fd00::1]/mymaster/4")
        #expect(e.mode == .sentinel(master: "mymaster"))
        #expect(e.tls == false)
        #expect(e.database == 4)
        #expect(e.password == Array(Self.password.utf8))
        #expect(e.nodes == [RedisNodeAddress(host: "s1", port: 26379), RedisNodeAddress(host: "s2", port: 26380),
                            RedisNodeAddress(host: "fd00::1", port: 26379)])
        #expect(e.host == "s1" && e.port == 26379)  // host and port are the first node
        #expect(e == RedisEndpoint(host: "s1", port: 26379, database: 4, password: Array(Self.password.utf8),
                                   mode: .sentinel(master: "mymaster"),
                                   moreNodes: [RedisNodeAddress(host: "s2", port: 26380), RedisNodeAddress(host: "fd00::1", port: 26379)]))

        let one = try RedisEndpoint(url: "rediss+sentinel://sentinel.internal/redis-main.eu_1")
        #expect(one.mode == .sentinel(master: "redis-main.eu_1"))
        #expect(one.tls && one.database == 0 && one.nodes.count == 1)
        #expect(try RedisEndpoint(url: "redis+sentinel://h/m/").database == 0)
    }

    @Test func clusterListsSeedsInDatabaseZero() throws {
        let e = try RedisEndpoint(url: "redis+cluster://sgw:\(Self.password)@n1,n2:7001,[::1]:7002")
        #expect(e.mode == .cluster)
        #expect(e.tls == false && e.database == 0 && e.username == "sgw")
        #expect(e.nodes == [RedisNodeAddress(host: "n1", port: 6379), RedisNodeAddress(host: "n2", port: 7001),
                            RedisNodeAddress(host: "::1", port: 7002)])
        for url in ["rediss+cluster://n1", "rediss+cluster://n1/", "rediss+cluster://n1/0"] {
            let seed = try RedisEndpoint(url: url)
            #expect(seed.tls && seed.mode == .cluster && seed.nodes == [RedisNodeAddress(host: "n1", port: 6379)], "\(url)")
        }
    }

    @Test func hostAndPortWriteTheFirstNode() throws {
        var e = try RedisEndpoint(url: "redis+cluster://n1,n2")
        e.host = "m1"
        e.port = 7000
        #expect(e.nodes == [RedisNodeAddress(host: "m1", port: 7000), RedisNodeAddress(host: "n2", port: 6379)])
    }

    @Test(arguments: [
        ("http://127.0.0.1:6379", RedisURLError.notARedisURL),
        ("127.0.0.1:6379", .notARedisURL),
        ("redis:/h", .notARedisURL),
        ("redis+foo://h", .notARedisURL),
        ("rediss+sentinel+cluster://h/m", .notARedisURL),
        ("redis://", .host),
        ("redis://:6379", .host),
        ("redis://h:0", .port),
        ("redis://h:65536", .port),
        ("redis://h:", .port),
        ("redis://h:6379/x", .database),
        ("redis://h:6379/100000", .database),
        ("redis://h:6379/1/2", .database),
        ("redis://h:6379/0?timeout=1", .options),
        ("redis+sentinel://h/m?x=1", .options),
        ("redis://[::1:6379", .host),
        ("redis://[zz]:6379", .host),
        ("redis://::1:6379", .host),
        ("redis://a b:6379", .host),
        ("redis://pw@h", .userinfo),
        ("redis://user:@h", .userinfo),
        ("redis://:p%4@h", .userinfo),
        ("redis://h1,h2", .severalNodes),
        ("rediss://h1:6379,h2:6380/0", .severalNodes),
        ("redis+sentinel://h1,,h2/m", .host),
        ("redis+sentinel://h1,/m", .host),
        ("redis+cluster://,n1", .host),
        ("redis+sentinel://h1,h2:0/m", .port),
        ("redis+sentinel://h1,h1:26379/m", .duplicateNode(position: 2)),
        ("redis+sentinel://a,H1,h1/m", .duplicateNode(position: 3)),
        ("redis+cluster://[::1],[::1]:6379", .duplicateNode(position: 2)),
        ("redis+sentinel://h1,h2", .masterName),
        ("redis+sentinel://h1/", .masterName),
        ("redis+sentinel://h1//0", .masterName),
        ("redis+sentinel://h1/my%20master", .masterName),
        ("redis+sentinel://h1/my master", .masterName),
        ("redis+sentinel://h1/m/x", .database),
        ("redis+sentinel://h1/m/0/1", .database),
        ("redis+cluster://n1/1", .clusterDatabase),
        ("redis+cluster://n1/00", .clusterDatabase),
        ("redis+cluster://n1/0/", .clusterDatabase),
    ])
    func refusedForms(url: String, expected: RedisURLError) {
        #expect(throws: expected) { try RedisEndpoint(url: url) }
    }

    @Test func masterNameLengthIsBounded() throws {
        let longest = String(repeating: "m", count: RedisEndpoint.maxMasterNameLength)
        #expect(try RedisEndpoint(url: "redis+sentinel://h/\(longest)").mode == .sentinel(master: longest))
        #expect(throws: RedisURLError.masterName) { try RedisEndpoint(url: "redis+sentinel://h/\(longest)m") }
    }

    /// Whatever is wrong with a URL that carries a password, the error text never holds it (nor the user).
    @Test func noErrorTextHoldsThePassword() {
        let urls = [
            "http://sgw:\(Self.password)@h", "\(Self.password)", "rediss://sgw:\(Self.password)@h,h2",
            "redis://sgw:\(Self.password)@h:0", "redis://sgw:\(Self.password)@h/x", "redis://sgw:\(Self.password)@",
            "redis://sgw:\(Self.password)%zz@h", "redis://sgw:\(Self.password)@h?x", "redis://\(Self.password)@h",
            "\(Self.password)://h", "redis+sentinel://sgw:\(Self.password)@h1,h1/m",
            "redis+sentinel://sgw:\(Self.password)@h1", "redis+sentinel://sgw:\(Self.password)@h1/\(Self.password)!",
            "redis+cluster://sgw:\(Self.password)@n1/3", "rediss+cluster://sgw:\(Self.password)@n1,,n2",
            "redis+sentinel://\(Self.password)@h/m",
        ]
        for url in urls {
            do {
                let accepted = try RedisEndpoint(url: url)
                Issue.record("accepted \(accepted)")
            } catch {
                #expect(!"\(error)".contains(Self.password), "\(url)")
                #expect(!"\(error)".contains("sgw"), "\(url)")
            }
        }
    }

    @Test func textualFormsHideThePassword() throws {
        let urls = [
            "redis://sgw:\(Self.password)@cache.internal:6380/3",
            "rediss+sentinel://sgw:\(Self.password)@s1,[::1]:26380/main/2",
            "rediss+cluster://:\(Self.password)@n1,n2",
        ]
        for url in urls {
            let e = try RedisEndpoint(url: url)
            var dumped = ""
            dump(e, to: &dumped)
            for form in [e.description, e.debugDescription, "\(e)", String(reflecting: e), dumped] {
                #expect(!form.contains(Self.password), "\(form)")
            }
            #expect(e.debugDescription.hasSuffix("(password redacted)"))
        }
    }

    @Test func descriptionShowsSchemeNodesMasterAndDatabase() throws {
        #expect(try RedisEndpoint(url: "redis://sgw:\(Self.password)@cache.internal:6380/3").description
            == "redis://sgw@cache.internal:6380/3")
        #expect(RedisEndpoint(host: "::1").description == "redis://[::1]:6379/0")
        #expect(try RedisEndpoint(url: "rediss://h").description == "rediss://h:6379/0")
        #expect(try RedisEndpoint(url: "rediss+sentinel://sgw:\(Self.password)@s1,[::1]:26380/main/2").description
            == "rediss+sentinel://sgw@s1:26379,[::1]:26380/main/2")
        #expect(try RedisEndpoint(url: "redis+sentinel://s1/main").description == "redis+sentinel://s1:26379/main/0")
        #expect(try RedisEndpoint(url: "redis+cluster://:\(Self.password)@n1,n2:7000/0").description
            == "redis+cluster://n1:6379,n2:7000")
        #expect(try RedisEndpoint(url: "rediss+cluster://n1").description == "rediss+cluster://n1:6379")
        // The description is itself a URL the parser reads back to the same endpoint (less the password).
        for url in ["rediss+sentinel://sgw:pw@s1,[::1]:26380/main/2", "redis+cluster://u:pw@n1,n2:7000", "rediss://u:pw@[::1]:7/9"] {
            var e = try RedisEndpoint(url: url)
            e.password = nil
            #expect(try RedisEndpoint(url: "\(e)".replacing("@", with: ":pw@")) == RedisEndpoint(url: url))
        }
        #expect(RedisMode.sentinel(master: "main").description == "sentinel, master main")
        #expect(RedisNodeAddress(host: "fd00::2", port: 1).description == "[fd00::2]:1")
    }
}
