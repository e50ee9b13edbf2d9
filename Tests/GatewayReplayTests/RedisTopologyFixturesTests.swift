import Foundation
@testable import GatewayReplay
import Testing
import TestSupport

/// Checks the topology fixtures themselves with `redis-cli`, so a failing client test can trust its Redis.
/// Serialized: each starts several servers, and two cores are all CI has.
@Suite(.serialized) struct RedisTopologyFixturesTests {
    private func elapsed(since start: Date) -> String { String(format: "%.2fs", Date().timeIntervalSince(start)) }

    @Test func tlsServer() throws {
        let start = Date()
        let tls = try RedisTLSFixture()
        let server = try tls.startServer(clientAuth: .optional, password: "s3cret")
        print("RedisTLSFixture + server up in \(elapsed(since: start))")
        #expect(server.cli().run(["PING"]) == "PONG")
        #expect(server.cli(clientCert: true).run(["SET", "k", "v"]) == "OK")
        #expect(server.cli(password: "wrong").run(["PING"]).contains("WRONGPASS"))
        // A client trusting an unrelated CA must refuse the server's certificate.
        #expect(server.cli(caCertPath: tls.otherCACertPath).run(["PING"]) != "PONG")
        // TLS only: the plain port is off and the TLS port does not speak plain RESP.
        #expect(RedisServerProcess.answersPing(port: server.port) == false)
        let directory = tls.directory.path
        server.stop()
        #expect(server.cli().run(["PING"]) != "PONG")
        tls.directory.remove()
        #expect(FileManager.default.fileExists(atPath: directory) == false)
    }

    @Test func tlsServerRequiringClientCertificates() throws {
        let tls = try RedisTLSFixture()
        let server = try tls.startServer(clientAuth: .yes)
        #expect(server.cli(clientCert: true).run(["PING"]) == "PONG")
        #expect(server.cli().run(["PING"]) != "PONG")
        let stranger = RedisCLI(port: server.port, options: ["--tls", "--cacert", tls.caCertPath,
                                                             "--cert", tls.otherClientCertPath, "--key", tls.otherClientKeyPath])
        #expect(stranger.run(["PING"]) != "PONG")
    }

    @Test func cluster() throws {
        let start = Date()
        let cluster = try RedisClusterProcess(password: "pw")
        print("RedisClusterProcess up in \(elapsed(since: start))")
        #expect(cluster.ports.count == 3)
        // Our slot function against the server's own.
        for key in ["foo", "bar", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "sgw:jti:app:6d1b0f3e"] {
            #expect(cluster.cli(node: 0).run(["CLUSTER", "KEYSLOT", key]) == String(RedisClusterSlot.slot(forKey: key)), "\(key)")
        }
        let slot = RedisClusterSlot.slot(forKey: "foo")
        let source = try #require(cluster.owner(ofSlot: slot))
        #expect(cluster.cli(node: source).run(["SET", "foo", "1"]) == "OK")
        #expect(cluster.cli(node: source).run(["SET", "{foo}.b", "2"]) == "OK")
        #expect(cluster.keyCount(node: source) == 2)
        let target = (source + 1) % 3
        // A node that does not own the slot redirects.
        #expect(cluster.cli(node: target).run(["GET", "foo"]) == "MOVED \(slot) 127.0.0.1:\(cluster.ports[source])")

        // Mid-migration: a key already moved gets ASK from the old owner; one not yet moved is still served there.
        try cluster.beginMigration(ofSlot: slot, to: target)
        try cluster.migrateKeys(inSlot: slot, to: target, limit: 1)
        #expect(cluster.keyCount(node: source) == 1)
        let moved = cluster.cli(node: target).run(["CLUSTER", "GETKEYSINSLOT", String(slot), "10"])
        let stayed = moved == "foo" ? "{foo}.b" : "foo"
        #expect(cluster.cli(node: source).run(["GET", moved]) == "ASK \(slot) 127.0.0.1:\(cluster.ports[target])")
        #expect(cluster.cli(node: source).run(["GET", stayed]).isEmpty == false)

        let moveStart = Date()
        try cluster.moveSlot(slot, to: target)
        print("RedisClusterProcess.moveSlot in \(elapsed(since: moveStart))")
        #expect(cluster.owner(ofSlot: slot) == target)
        #expect(cluster.keyCount(node: source) == 0)
        #expect(cluster.keyCount(node: target) == 2)
        #expect(cluster.cli(node: target).run(["GET", "foo"]) == "1")
        // What a client holding the old map sees:
        #expect(cluster.cli(node: source).run(["GET", "foo"]) == "MOVED \(slot) 127.0.0.1:\(cluster.ports[target])")
        #expect(cluster.isHealthy)

        let ports = cluster.ports
        cluster.stop()
        #expect(ports.allSatisfy { !RedisServerProcess.answersPing(port: $0) })
    }

    @Test func sentinelFailover() throws {
        let start = Date()
        let setup = try RedisSentinelSetup(sentinels: 1, password: "pw")
        print("RedisSentinelSetup(1 sentinel) up in \(elapsed(since: start))")
        let oldMaster = setup.masterPort
        #expect(setup.reportedMasterPort() == oldMaster)
        #expect(setup.role(ofDataNode: 0) == "master")
        #expect(setup.role(ofDataNode: 1) == "slave")
        #expect(setup.dataCLI(0).run(["SET", "k", "v"]) == "OK")
        #expect(setup.dataCLI(1).run(["SET", "k", "v"]).hasPrefix("READONLY"))
        // Replication is asynchronous: a key written right before a failover may not have reached the replica.
        var polls = 0
        while setup.dataCLI(1).run(["EXISTS", "k"]) != "1" && polls < 500 {
            polls += 1
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(setup.dataCLI(1).run(["EXISTS", "k"]) == "1")

        let failoverStart = Date()
        try setup.failover()
        print("RedisSentinelSetup.failover in \(elapsed(since: failoverStart))")
        #expect(setup.masterPort != oldMaster)
        #expect(setup.reportedMasterPort() == setup.masterPort)
        #expect(setup.role(ofDataNode: setup.masterIndex) == "master")
        #expect(setup.role(ofDataNode: 1 - setup.masterIndex) == "slave")
        #expect(setup.dataCLI(setup.masterIndex).run(["GET", "k"]) == "v")
        // The demoted master now refuses writes: what a client that missed the switch gets.
        #expect(setup.dataCLI(1 - setup.masterIndex).run(["SET", "k", "w"]).hasPrefix("READONLY"))

        // And back: the fixture leaves a clean master/replica pair, so a test can fail over twice.
        let failbackStart = Date()
        try setup.failover()
        print("RedisSentinelSetup.failover (back) in \(elapsed(since: failbackStart))")
        #expect(setup.masterPort == oldMaster)
        #expect(setup.role(ofDataNode: 0) == "master")
    }

    @Test func threeSentinelsFailOverWhenTheMasterDies() throws {
        let start = Date()
        let setup = try RedisSentinelSetup(sentinels: 3, sentinelPassword: "spw")
        print("RedisSentinelSetup(3 sentinels) up in \(elapsed(since: start))")
        #expect(setup.sentinelCLI(0).run(["PING"]) == "PONG")
        #expect(RedisCLI(port: setup.sentinelPorts[0]).run(["SENTINEL", "masters"]).hasPrefix("NOAUTH"))
        let oldMaster = setup.masterPort
        let killStart = Date()
        try setup.killMaster()
        print("RedisSentinelSetup.killMaster failover in \(elapsed(since: killStart))")
        #expect(setup.masterPort != oldMaster)
        #expect(setup.sentinelPorts.indices.allSatisfy { setup.reportedMasterPort(sentinel: $0) == setup.masterPort })
    }
}
