import GatewayConfig
import GatewayCore
import GatewayLoop
import Testing
@testable import GatewayProxy

/// The address-set update behind `resolve_interval`, and how a snapshot expands names into servers.
@Suite struct ResolvedNamesTests {
    let app = HostPort(host: "app.internal", port: 3000)
    let other = HostPort(host: "other.internal", port: 80)

    func addrs(_ texts: String...) -> [SocketAddress] {
        texts.compactMap { try? SocketAddress(parsing: $0) }
    }

    @Test func sameSetInAnotherOrderIsNoChange() {
        var names = ResolvedNames([app: addrs("10.0.0.1:3000", "10.0.0.2:3000")])
        let change = names.apply([app: addrs("10.0.0.2:3000", "10.0.0.1:3000", "10.0.0.2:3000")])
        #expect(change == ResolvedNames.Change())
        #expect(names.addresses[app] == addrs("10.0.0.1:3000", "10.0.0.2:3000"))
    }

    @Test func newAddressIsAChange() {
        var names = ResolvedNames([app: addrs("10.0.0.1:3000")])
        let change = names.apply([app: addrs("10.0.0.1:3000", "10.0.0.3:3000")])
        #expect(change.changed == [app])
        #expect(names.addresses[app] == addrs("10.0.0.1:3000", "10.0.0.3:3000"))
    }

    @Test func failedLookupKeepsTheLastGoodAddressesAndWarnsOnce() {
        var names = ResolvedNames([app: addrs("10.0.0.1:3000"), other: addrs("10.0.0.9:80")])
        let first = names.apply([app: nil, other: addrs("10.0.0.9:80")])
        #expect(first.startedFailing == [app])
        #expect(first.changed.isEmpty)
        #expect(names.addresses[app] == addrs("10.0.0.1:3000"))
        let second = names.apply([app: []])
        #expect(second.startedFailing.isEmpty, "an empty answer is a failure too, and it was already reported")
        #expect(names.failing == [app])
        let back = names.apply([app: addrs("10.0.0.2:3000")])
        #expect(back.recovered == [app])
        #expect(back.changed == [app])
        #expect(names.failing.isEmpty)
    }

    @Test func namesNotAskedAboutAreLeftAlone() {
        var names = ResolvedNames([app: addrs("10.0.0.1:3000"), other: addrs("10.0.0.9:80")])
        _ = names.apply([app: addrs("10.0.0.5:3000")])
        #expect(names.addresses[other] == addrs("10.0.0.9:80"))
    }

    @Test func entriesAreClassified() throws {
        #expect(UpstreamTarget.entry("10.0.0.1:80") == .fixed(try SocketAddress(parsing: "10.0.0.1:80")))
        #expect(UpstreamTarget.entry("[::1]:80") == .fixed(try SocketAddress(parsing: "[::1]:80")))
        #expect(UpstreamTarget.entry("unix:/run/a.sock") == .fixed(try SocketAddress(unixPath: "/run/a.sock")))
        #expect(UpstreamTarget.entry("localhost:80") == .name(HostPort(host: "localhost", port: 80)))
        #expect(UpstreamTarget.entry("app.internal:3000") == .name(app))
    }

    @Test func everyAddressOfANameIsAServerWithItsOwnPoolKey() throws {
        var config = UpstreamConfig(name: "app", servers: ["10.0.0.1:3000", "app.internal:3000"])
        config.resolveInterval = .seconds(5)
        let names = ResolvedNames([app: addrs("10.0.0.7:3000", "10.0.0.8:3000")])
        let target = UpstreamTarget.build(config, tls: nil, names: names)
        #expect(target.servers.map(\.description) == ["10.0.0.1:3000", "10.0.0.7:3000", "10.0.0.8:3000"])
        #expect(target.serverNames == ["10.0.0.1:3000", "app.internal:3000", "app.internal:3000"])
        #expect(target.poolKeys == ["10.0.0.1:3000", "app.internal:3000@10.0.0.7:3000", "app.internal:3000@10.0.0.8:3000"])
        #expect(target.hostNames == [app])
    }

    @Test func snapshotWithNewNamesKeepsEverythingElse() throws {
        var config = GatewayConfig()
        config.listeners = [ListenerConfig(address: "127.0.0.1:0")]
        config.upstreams = [UpstreamConfig(name: "app", servers: ["app.internal:3000"]),
                            UpstreamConfig(name: "fixed", servers: ["10.0.0.1:80"])]
        config.routes = [RouteConfig(pathPrefix: "/", upstream: "app", auth: .none)]
        let first = try RuntimeSnapshot(config: config, clock: SystemClock(), generation: 1) { _, _ in
            [try? SocketAddress(parsing: "10.0.0.7:3000")].compactMap { $0 }
        }
        #expect(first.upstreams[0].servers.map(\.description) == ["10.0.0.7:3000"])
        var names = first.names
        _ = names.apply([app: addrs("10.0.0.8:3000", "10.0.0.9:3000")])
        let second = first.withNames(names)
        #expect(second.upstreams[0].servers.map(\.description) == ["10.0.0.8:3000", "10.0.0.9:3000"])
        #expect(second.upstreams[1] === first.upstreams[1], "an upstream without names is shared")
        #expect(second.verifier === first.verifier)
        #expect(!second.poolSlotSet.isSuperset(of: first.upstreams[0].poolSlots), "the old address's slot is retired")
    }

    @Test func nameThatDoesNotResolveAtLoadIsRefused() {
        var config = GatewayConfig()
        config.upstreams = [UpstreamConfig(name: "app", servers: ["nowhere.invalid:80"])]
        #expect(throws: RuntimeSnapshot.BuildError.self) {
            try RuntimeSnapshot(config: config, clock: SystemClock(), generation: 1) { _, _ in nil }
        }
    }
}
