import Foundation
import GatewayConfig
import GatewayCore
import Testing

/// `replay.redis.url`'s TLS, Sentinel and Cluster forms and `replay.redis.tls`: the keys, the rules that tie them to
/// the URL, and the summary `check` prints.
@Suite struct RedisTLSConfigTests {
    static let password = "pw-Heron-4410"

    /// `replay.redis` written as a block, so each key sits on its own line (line 13 is the first key).
    func yaml(_ lines: [String]) -> String {
        minimalYAML + "\nreplay:\n  store: redis\n  redis:\n" + lines.map { "    " + $0 }.joined(separator: "\n") + "\n"
    }

    /// A directory holding the (content-free) files the TLS keys may name.
    func pemDirectory() throws -> String {
        let dir = try temporaryDirectory()
        for name in ["ca.pem", "client.crt", "client.key"] {
            try Data("PEM".utf8).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        try FileManager.default.createDirectory(atPath: dir + "/adir", withIntermediateDirectories: true)
        return dir
    }

    @Test func allTLSKeysAreRead() throws {
        let dir = try pemDirectory()
        let report = parse(yaml([
            "url: \"rediss+sentinel://:\(Self.password)@s1,s2:26380/main/1\"",
            "tls: {ca_file: ca.pem, certificate_chain: client.crt, private_key: \(dir)/client.key, server_name: redis.internal}",
        ]), base: dir)
        #expect(report.issues.isEmpty, "\(report.issues)")
        let redis = try #require(report.config?.replay.redis)
        #expect(redis.tls == RedisTLSConfig(caFile: dir + "/ca.pem", certificateChain: dir + "/client.crt",
                                            privateKey: dir + "/client.key", serverName: "redis.internal"))
        let endpoint = try redis.endpoint()
        #expect(endpoint.tls && endpoint.mode == .sentinel(master: "main") && endpoint.database == 1)
        #expect(endpoint.nodes == [RedisNodeAddress(host: "s1", port: 26379), RedisNodeAddress(host: "s2", port: 26380)])
        let summary = try #require(report.config?.summary())
        #expect(summary.contains("store redis, rediss+sentinel://s1:26379,s2:26380/main/1, AUTH as default, "
            + "password in url (redacted), sentinel, master main, tls on (ca \(dir)/ca.pem, client certificate \(dir)/client.crt, "
            + "server_name redis.internal), prefix \"sgw:jti:\""), "\(summary)")
        #expect(!summary.contains(Self.password))
        var dumped = ""
        dump(redis, to: &dumped)
        #expect(!dumped.contains(Self.password))
        #expect(dumped.contains("redis.internal"))
    }

    @Test func redissWithoutTLSKeysUsesTheSystemStore() throws {
        let report = parse(yaml(["url: rediss+cluster://n1,n2:7001"]))
        #expect(report.issues.isEmpty, "\(report.issues)")
        let redis = try #require(report.config?.replay.redis)
        #expect(redis.tls == nil)
        #expect(try redis.endpoint().mode == .cluster)
        #expect(report.config?.summary().contains(
            "rediss+cluster://n1:6379,n2:7001, no AUTH, cluster, tls on (ca system store, server_name each node's host)") == true)
        // Empty or null settings are the same as none.
        #expect(parse(yaml(["url: rediss://h", "tls: {}"])).config?.replay.redis.tls == RedisTLSConfig())
        #expect(parse(yaml(["url: rediss://h", "tls:"])).config?.replay.redis.tls == nil)
    }

    @Test func serverNameMayBeAnIPAddress() throws {
        for name in ["127.0.0.1", "::1", "redis-0.redis.svc"] {
            let report = parse(yaml(["url: rediss://10.0.0.5", "tls: {server_name: \"\(name)\"}"]))
            #expect(report.issues.isEmpty, "\(name): \(report.issues)")
            #expect(report.config?.replay.redis.tls?.serverName == name)
        }
    }

    @Test func plainURLWithTLSKeysIsAnError() throws {
        let dir = try pemDirectory()
        let message = "TLS settings need a TLS url: use rediss://, rediss+sentinel:// or rediss+cluster:// in replay.redis.url"
        #expect(errors(yaml(["url: redis://h", "tls: {ca_file: ca.pem}"]), base: dir) == [
            "gateway.yaml:14:10: replay.redis.tls: \(message)",
        ])
        #expect(errors(yaml(["url: redis+cluster://n1,n2", "tls: {}"])) == ["gateway.yaml:14:10: replay.redis.tls: \(message)"])
        // The default url is plain too.
        #expect(errors(yaml(["tls: {server_name: h}"])) == ["gateway.yaml:13:10: replay.redis.tls: \(message)"])
        // Said even when the section has errors of its own.
        #expect(errors(yaml(["url: redis://h", "tls: {ca_file: nope.pem}"]), base: dir) == [
            "gateway.yaml:14:10: replay.redis.tls: \(message)",
            "gateway.yaml:14:20: replay.redis.tls.ca_file: CA file '\(dir)/nope.pem' does not exist",
        ])
        // A program that builds the config by hand is refused the same way.
        var config = RedisConfig()
        config.tls = RedisTLSConfig()
        #expect(throws: RedisConfig.EndpointProblem.tlsWithoutRediss) { try config.endpoint() }
        config.url = "rediss://h"
        #expect(try config.endpoint().tls)
    }

    @Test func chainAndKeyComeTogether() throws {
        let dir = try pemDirectory()
        #expect(errors(yaml(["url: rediss://h", "tls: {certificate_chain: client.crt}"]), base: dir) == [
            "gateway.yaml:14:10: replay.redis.tls.private_key: missing 'private_key': a client certificate needs both "
                + "certificate_chain and private_key (certificate_chain is given)",
        ])
        #expect(errors(yaml(["url: rediss://h", "tls:", "  private_key: client.key", "  server_name: h"]), base: dir) == [
            "gateway.yaml:15:7: replay.redis.tls.certificate_chain: missing 'certificate_chain': a client certificate needs "
                + "both certificate_chain and private_key (private_key is given)",
        ])
    }

    @Test func filesMustBeReadable() throws {
        let dir = try pemDirectory()
        #expect(errors(yaml(["url: rediss://h", "tls:", "  ca_file: adir", "  certificate_chain: no.crt",
                             "  private_key: \"\"", "  server_name: \"\""]), base: dir) == [
            "gateway.yaml:15:16: replay.redis.tls.ca_file: CA file '\(dir)/adir' is a directory",
            "gateway.yaml:16:26: replay.redis.tls.certificate_chain: certificate chain file '\(dir)/no.crt' does not exist",
            "gateway.yaml:17:20: replay.redis.tls.private_key: must not be empty",
            "gateway.yaml:18:20: replay.redis.tls.server_name: must not be empty",
        ])
    }

    @Test func badKeysAndValues() throws {
        #expect(errors(yaml(["url: rediss://h", "tls: {verify: false, server_name: \"[::1]\"}"])) == [
            "gateway.yaml:14:11: replay.redis.tls.verify: unknown key 'verify' (expected one of: ca_file, certificate_chain, "
                + "private_key, server_name)",
            "gateway.yaml:14:39: replay.redis.tls.server_name: '[::1]' is not a DNS name or an IP address (write an IPv6 "
                + "address without brackets, and no port)",
        ])
        #expect(errors(yaml(["url: rediss://h", "tls: {server_name: \"h:6379\"}"])).count == 1)
        #expect(errors(yaml(["url: rediss://h", "tls: [ca.pem]"])) == [
            "gateway.yaml:14:10: replay.redis.tls: expected a mapping with keys ca_file, certificate_chain, private_key, "
                + "server_name, found a list",
        ])
    }

    @Test func summaryNamesModeAndTLSOff() throws {
        let report = parse(yaml(["url: redis+sentinel://sgw:\(Self.password)@[::1],h2/main"]))
        #expect(report.issues.isEmpty, "\(report.issues)")
        let summary = try #require(report.config?.summary())
        #expect(summary.contains("redis+sentinel://sgw@[::1]:26379,h2:26379/main/0, AUTH as sgw, password in url (redacted), "
            + "sentinel, master main, tls off, prefix"), "\(summary)")
        #expect(!summary.contains(Self.password))
    }
}
