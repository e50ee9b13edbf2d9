import GatewayCore
@testable import GatewayReplay
import Testing

private func bulk(_ s: String) -> RedisReply { .bulk(Array(s.utf8)) }

/// Reply shapes as Redis 7.0 and its Sentinel send them (captured with `redis-cli`, rebuilt as `RedisReply`).
struct RedisSentinelRepliesTests {
    /// The typed error `body` throws; nil when it returns (or throws anything else, which then fails the comparison).
    private func error<T>(_ body: () throws -> T) -> RedisSentinelReplies.ParseError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? RedisSentinelReplies.ParseError
        }
    }

    @Test func masterAddress() throws {
        #expect(try RedisSentinelReplies.masterAddress(.array([bulk("127.0.0.1"), bulk("6380")]))
            == RedisNodeAddress(host: "127.0.0.1", port: 6380))
        #expect(try RedisSentinelReplies.masterAddress(.array([bulk("::1"), bulk("6380")])) == RedisNodeAddress(host: "::1", port: 6380))
        // Sentinel answers a null array for a name it does not monitor.
        #expect(try RedisSentinelReplies.masterAddress(.null) == nil)
    }

    @Test func masterAddressErrors() {
        #expect(error { try RedisSentinelReplies.masterAddress(.error("NOAUTH Authentication required.")) }
            == .errorReply("NOAUTH Authentication required."))
        for reply: RedisReply in [.array([]), .array([bulk("127.0.0.1")]), .array([bulk("h"), bulk("x")]),
                                  .array([bulk("h"), bulk("0")]), .array([bulk("h"), bulk("70000")]),
                                  .array([bulk(""), bulk("6379")]), .array([.integer(1), bulk("6379")]),
                                  .array([bulk("h"), bulk("1"), bulk("2")]), .integer(1), .bulk([])] {
            #expect(error { try RedisSentinelReplies.masterAddress(reply) } == .malformedMasterAddress, "\(reply)")
        }
    }

    @Test func roleOfAMaster() throws {
        let reply = RedisReply.array([bulk("master"), .integer(3129659),
                                      .array([.array([bulk("127.0.0.1"), bulk("9001"), bulk("3129242")]),
                                              .array([bulk("127.0.0.1"), bulk("9002"), bulk("3129543")])])])
        let role = try RedisSentinelReplies.role(reply)
        #expect(role == .master(replicas: [RedisNodeAddress(host: "127.0.0.1", port: 9001), RedisNodeAddress(host: "127.0.0.1", port: 9002)]))
        #expect(role.isMaster)
        #expect(try RedisSentinelReplies.role(.array([bulk("master"), .integer(0), .array([])])) == .master(replicas: []))
    }

    @Test func roleOfAReplica() throws {
        let up = RedisReply.array([bulk("slave"), bulk("127.0.0.1"), .integer(9000), bulk("connected"), .integer(3167038)])
        #expect(try RedisSentinelReplies.role(up) == .replica(master: RedisNodeAddress(host: "127.0.0.1", port: 9000), linkUp: true))
        let syncing = RedisReply.array([bulk("slave"), bulk("127.0.0.1"), .integer(9000), bulk("sync"), .integer(-1)])
        let role = try RedisSentinelReplies.role(syncing)
        #expect(role == .replica(master: RedisNodeAddress(host: "127.0.0.1", port: 9000), linkUp: false))
        #expect(role.isMaster == false)
    }

    @Test func roleOfASentinel() throws {
        let reply = RedisReply.array([bulk("sentinel"), .array([bulk("resque-master"), bulk("html-fragments-master")])])
        #expect(try RedisSentinelReplies.role(reply) == .sentinel(masterNames: ["resque-master", "html-fragments-master"]))
    }

    @Test func roleErrors() {
        #expect(error { try RedisSentinelReplies.role(.error("NOAUTH Authentication required.")) }
            == .errorReply("NOAUTH Authentication required."))
        #expect(error { try RedisSentinelReplies.role(.array([bulk("leader")])) } == .unknownRole("leader"))
        for reply: RedisReply in [.null, .array([]), .array([.integer(1)]), .array([bulk("master")]),
                                  .array([bulk("master"), .integer(0), bulk("x")]),
                                  .array([bulk("master"), .integer(0), .array([.array([bulk("h"), bulk("port")])])]),
                                  .array([bulk("slave"), bulk("h"), .integer(0), bulk("connected")]),
                                  .array([bulk("slave"), bulk("h"), .integer(1)]),
                                  .array([bulk("sentinel"), .array([.integer(1)])]), .array([bulk("sentinel")])] {
            #expect(error { try RedisSentinelReplies.role(reply) } == .malformedRole, "\(reply)")
        }
    }

    @Test func switchMaster() throws {
        let message = RedisReply.array([bulk("message"), bulk("+switch-master"),
                                        bulk("mymaster 127.0.0.1 6379 127.0.0.1 6380")])
        let event = try RedisSentinelReplies.switchMaster(message)
        #expect(event == .init(name: "mymaster", oldMaster: RedisNodeAddress(host: "127.0.0.1", port: 6379),
                               newMaster: RedisNodeAddress(host: "127.0.0.1", port: 6380)))
        let pattern = RedisReply.array([bulk("pmessage"), bulk("*"), bulk("+switch-master"),
                                        bulk("my master ::1 6379 ::1 6380")])
        let fromPattern = try RedisSentinelReplies.switchMaster(pattern)
        #expect(fromPattern?.name == "my master")
        #expect(fromPattern?.newMaster == RedisNodeAddress(host: "::1", port: 6380))
    }

    @Test func otherPushesAreSkipped() throws {
        let skipped: [RedisReply] = [
            .array([bulk("subscribe"), bulk("+switch-master"), .integer(1)]),
            .array([bulk("message"), bulk("+sdown"), bulk("master mymaster 127.0.0.1 6379")]),
            .array([bulk("pmessage"), bulk("*"), bulk("+odown"), bulk("master mymaster 127.0.0.1 6379 #quorum 2/2")]),
            .array([bulk("message"), bulk("+switch-master")]),
            .status("OK"), .null, .array([]),
        ]
        for reply in skipped {
            #expect(try RedisSentinelReplies.switchMaster(reply) == nil, "\(reply)")
        }
    }

    @Test func malformedSwitchMaster() {
        for payload in ["mymaster 127.0.0.1 6379 127.0.0.1", "mymaster 127.0.0.1 6379 127.0.0.1 x",
                        "mymaster 127.0.0.1 6379 127.0.0.1 0", " 127.0.0.1 6379 127.0.0.1 6380",
                        "mymaster 127.0.0.1 6379  6380", ""] {
            let reply = RedisReply.array([bulk("message"), bulk("+switch-master"), bulk(payload)])
            #expect(error { try RedisSentinelReplies.switchMaster(reply) } == .malformedSwitchMaster, "\(payload)")
        }
        let notText = RedisReply.array([bulk("message"), bulk("+switch-master"), .integer(5)])
        #expect(error { try RedisSentinelReplies.switchMaster(notText) } == .malformedSwitchMaster)
    }
}
