import GatewayCore
@testable import GatewayReplay
import Testing

struct RedisRedirectTests {
    let replier = RedisNodeAddress(host: "10.1.2.3", port: 7000)

    @Test func movedAndAsk() {
        #expect(RedisRedirect(reply: .error("MOVED 3999 127.0.0.1:6381"), from: replier)
            == .moved(slot: 3999, node: RedisNodeAddress(host: "127.0.0.1", port: 6381)))
        #expect(RedisRedirect(reply: .error("ASK 3999 127.0.0.1:6381"), from: replier)
            == .ask(slot: 3999, node: RedisNodeAddress(host: "127.0.0.1", port: 6381)))
        let redirect = RedisRedirect(errorMessage: "MOVED 0 redis-1.internal:6379", from: replier)
        #expect(redirect?.slot == 0)
        #expect(redirect?.node == RedisNodeAddress(host: "redis-1.internal", port: 6379))
        #expect(RedisRedirect(errorMessage: "MOVED 16383 h:1", from: replier)?.slot == 16383)
    }

    @Test func emptyHostIsTheNodeThatReplied() {
        #expect(RedisRedirect(errorMessage: "MOVED 3999 :6381", from: replier)
            == .moved(slot: 3999, node: RedisNodeAddress(host: "10.1.2.3", port: 6381)))
    }

    @Test func ipv6PortIsAfterTheLastColon() {
        #expect(RedisRedirect(errorMessage: "MOVED 1 ::1:7001", from: replier)?.node == RedisNodeAddress(host: "::1", port: 7001))
        #expect(RedisRedirect(errorMessage: "ASK 1 2001:db8::5:7001", from: replier)?.node
            == RedisNodeAddress(host: "2001:db8::5", port: 7001))
        #expect(RedisRedirect(errorMessage: "MOVED 1 [::1]:7001", from: replier)?.node == RedisNodeAddress(host: "::1", port: 7001))
    }

    @Test func otherErrorsAndRepliesAreNotRedirects() {
        for text in ["ERR unknown command", "MOVED", "MOVED 1", "MOVED x 127.0.0.1:1", "MOVED 16384 127.0.0.1:1",
                     "MOVED -1 127.0.0.1:1", "MOVED 1 127.0.0.1", "MOVED 1 127.0.0.1:", "MOVED 1 127.0.0.1:0",
                     "MOVED 1 127.0.0.1:65536", "MOVED 1 127.0.0.1:x", "MOVED 1 127.0.0.1:1 extra", "MOVED  1 h:1",
                     "moved 1 h:1", "ASKING 1 h:1", "TRYAGAIN Multiple keys request during rehashing of slot", ""] {
            #expect(RedisRedirect(errorMessage: text, from: replier) == nil, "\(text)")
        }
        #expect(RedisRedirect(reply: .status("MOVED 1 h:1"), from: replier) == nil)
        #expect(RedisRedirect(reply: .bulk(Array("MOVED 1 h:1".utf8)), from: replier) == nil)
    }

    @Test func errorKinds() {
        // The messages as Redis 7.0 sends them.
        #expect(RedisErrorKind(reply: .error("READONLY You can't write against a read only replica.")) == .readOnly)
        #expect(RedisErrorKind(reply: .error("LOADING Redis is loading the dataset in memory")) == .loading)
        #expect(RedisErrorKind(reply: .error(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")) == .masterDown)
        #expect(RedisErrorKind(reply: .error("CLUSTERDOWN The cluster is down")) == .clusterDown)
        #expect(RedisErrorKind(reply: .error("CLUSTERDOWN Hash slot not served")) == .clusterDown)
        #expect(RedisErrorKind(reply: .error("TRYAGAIN Multiple keys request during rehashing of slot")) == .tryAgain)
        #expect(RedisErrorKind(errorMessage: "READONLY") == .readOnly)
        #expect(RedisErrorKind(reply: .error("NOREPLICAS Not enough good replicas to write.")) == .noReplicas)
        for text in ["ERR wrong number of arguments", "MOVED 1 h:1", "NOAUTH Authentication required.", "READONLYX", "",
                     "readonly You can't write"] {
            #expect(RedisErrorKind(errorMessage: text) == nil, "\(text)")
        }
        #expect(RedisErrorKind(reply: .status("LOADING")) == nil)
        #expect(RedisErrorKind.allCases.filter(\.needsRediscovery) == [.readOnly, .masterDown, .clusterDown, .noReplicas])
    }
}
