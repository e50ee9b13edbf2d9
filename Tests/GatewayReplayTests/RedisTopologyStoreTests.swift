import Dispatch
import Foundation
import GatewayCore
import GatewayLoop
import GatewayTLS
@testable import GatewayReplay
import Synchronization
import Testing
import TestSupport

/// The store against real TLS, Cluster and Sentinel deployments (the fixtures of `TestSupport`).
@Suite(.serialized) struct RedisTopologyStoreTests {
    func admit(_ store: RedisReplayStore, _ jti: String) -> ReplayAdmission? { StoreAnswers.admit(store, jti: jti) }

    func ready(_ store: RedisReplayStore) -> Bool? { StoreAnswers.ready(store) }

    @Test func tlsWithACAAndAClientCertificate() throws {
        let fixture = try RedisTLSFixture()
        let server = try fixture.startServer(clientAuth: .yes, password: "tls-pw")
        let context = try TLSContext.client(caFile: fixture.caCertPath, verify: true,
                                            certificate: CertificatePaths(certificateChain: fixture.clientCertPath,
                                                                          privateKey: fixture.clientKeyPath))
        let endpoint = RedisEndpoint(host: "127.0.0.1", port: server.port, password: Array("tls-pw".utf8), tls: true)
        let store = RedisReplayStore(endpoint: endpoint, keyPrefix: "t:", timeout: .seconds(2),
                                     tls: RedisTLS(context: context, serverName: nil))
        #expect(ready(store) == true)
        #expect(admit(store, "a") == .fresh)
        #expect(admit(store, "a") == .replayed)
        // A CA that did not sign the server's certificate: fails closed.
        let wrong = try TLSContext.client(caFile: fixture.otherCACertPath, verify: true, certificate: nil)
        let untrusting = RedisReplayStore(endpoint: endpoint, keyPrefix: "t:", timeout: .seconds(2),
                                          tls: RedisTLS(context: wrong, serverName: nil))
        #expect(admit(untrusting, "b") == .unavailable(.connection))
        #expect(ready(untrusting) == false)
    }

    @Test func clusterSpreadsKeysOverEveryMasterAndFollowsMOVED() throws {
        let cluster = try RedisClusterProcess()
        let endpoint = try RedisEndpoint(url: "redis+cluster://127.0.0.1:\(cluster.ports[0]),127.0.0.1:\(cluster.ports[1])")
        let store = RedisReplayStore(endpoint: endpoint, keyPrefix: "c:", timeout: .seconds(2))
        #expect(ready(store) == true)
        let jtis = (0..<300).map { "k-\($0)" }
        for j in jtis { #expect(admit(store, j) == .fresh) }
        for n in 0..<3 { #expect(cluster.keyCount(node: n) > 50, "node \(n)") }
        // Move the slot of one used key to another master: the store still finds it (MOVED), and new keys there too.
        let key = Array("c:app:k-7".utf8)
        let slot = RedisClusterSlot.slot(forKey: key)
        let owner = try #require(cluster.owner(ofSlot: slot))
        try cluster.moveSlot(slot, to: (owner + 1) % 3)
        #expect(admit(store, "k-7") == .replayed)
        #expect(admit(store, "k-7b") == .fresh)
        for j in jtis.prefix(50) { #expect(admit(store, j) == .replayed) }
    }

    @Test func sentinelFindsTheMasterAndFollowsAFailover() throws {
        let setup = try RedisSentinelSetup()
        let endpoint = try RedisEndpoint(url: "redis+sentinel://127.0.0.1:\(setup.sentinelPorts[0])/\(setup.masterName)")
        let store = RedisReplayStore(endpoint: endpoint, keyPrefix: "s:", timeout: .seconds(2))
        #expect(ready(store) == true)
        #expect(admit(store, "before") == .fresh)
        // Replicated before the failover (asynchronous replication: a key written just before one can be lost, see the
        // README), so the new master knows it. WAIT from another connection would not wait for this write.
        // A `while`, not `for ... where`: the latter runs redis-cli on every one of its iterations.
        var polls = 0
        while setup.dataCLI(1 - setup.masterIndex).run(["EXISTS", "s:app:before"]) != "1" && polls < 200 {
            polls += 1
            Thread.sleep(forTimeInterval: 0.01)
        }
        try setup.failover()
        var after: ReplayAdmission?
        for _ in 0..<100 {
            after = admit(store, "after")
            if after == .fresh { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(after == .fresh)
        #expect(admit(store, "before") == .replayed)
        #expect(admit(store, "after") == .replayed)
    }
}
