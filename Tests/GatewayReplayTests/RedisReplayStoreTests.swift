import Dispatch
import Foundation
import GatewayCore
@testable import GatewayReplay
import Testing
import TestSupport

/// Runs against real `redis-server` processes the tests start themselves.
@Suite(.serialized) struct RedisReplayStoreTests {
    func admit(_ store: RedisReplayStore, app: String = "app", jti: String, until: Int64) -> ReplayAdmission? {
        StoreAnswers.admit(store, app: app, jti: jti, until: until)
    }

    func ready(_ store: RedisReplayStore) -> Bool? { StoreAnswers.ready(store) }

    var now: Int64 { SystemClock().wallSeconds() }

    @Test func freshThenReplayed() throws {
        let server = try RedisServerProcess()
        let store = try RedisReplayStore(url: "redis://127.0.0.1:\(server.port)/0", keyPrefix: "sgw:jti:",
                                         timeout: .seconds(2))
        #expect(ready(store) == true)
        let until = now + 300
        #expect(admit(store, jti: "6d1b0f3e-1", until: until) == .fresh)
        #expect(admit(store, jti: "6d1b0f3e-1", until: until) == .replayed)
        #expect(admit(store, app: "other-app", jti: "6d1b0f3e-1", until: until) == .fresh)
        // Raw bytes go through as-is (argv with lengths): spaces, CRLF and non-ASCII cannot break the protocol.
        let odd = "a b\r\n*3\r\n$3\r\nDEL é\u{0}"
        #expect(admit(store, jti: odd, until: until) == .fresh)
        #expect(admit(store, jti: odd, until: until) == .replayed)
        #expect(store.entryCount == 0)
    }

    /// A host name is looked up off the loop before each connect (a managed Redis moves its name on failover).
    @Test func aHostNameIsResolved() throws {
        let server = try RedisServerProcess()
        let store = try RedisReplayStore(url: "redis://localhost:\(server.port)/0", keyPrefix: "sgw:jti:", timeout: .seconds(2))
        #expect(admit(store, jti: "by-name", until: now + 60) == .fresh)
        #expect(admit(store, jti: "by-name", until: now + 60) == .replayed)
        let nowhere = try RedisReplayStore(url: "redis://no-such-host.invalid:6379/0", keyPrefix: "sgw:jti:", timeout: .seconds(2))
        #expect(admit(nowhere, jti: "x", until: now + 60) == .unavailable(.connection))
    }

    @Test func databaseAndPrefixAreUsed() throws {
        let server = try RedisServerProcess()
        let a = try RedisReplayStore(url: "redis://127.0.0.1:\(server.port)/1", keyPrefix: "one:",
                                     timeout: .seconds(2))
        let b = try RedisReplayStore(url: "redis://127.0.0.1:\(server.port)/2", keyPrefix: "one:",
                                     timeout: .seconds(2))
        let c = try RedisReplayStore(url: "redis://127.0.0.1:\(server.port)/1", keyPrefix: "two:",
                                     timeout: .seconds(2))
        let until = now + 60
        #expect(admit(a, jti: "j", until: until) == .fresh)
        #expect(admit(b, jti: "j", until: until) == .fresh)
        #expect(admit(c, jti: "j", until: until) == .fresh)
        #expect(admit(a, jti: "j", until: until) == .replayed)
    }

    @Test func keyExpiresAfterUntil() throws {
        let server = try RedisServerProcess()
        let store = try RedisReplayStore(url: "redis://127.0.0.1:\(server.port)", keyPrefix: "sgw:jti:",
                                         timeout: .seconds(2))
        let until = now + 1
        #expect(admit(store, jti: "short-lived", until: until) == .fresh)
        #expect(admit(store, jti: "short-lived", until: until) == .replayed)
        // The key is set to vanish at until+1; wait until that second has surely begun (not a timing assertion).
        Thread.sleep(forTimeInterval: 2.1)
        while now <= until + 1 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(admit(store, jti: "short-lived", until: now + 60) == .fresh)
    }

    /// A refused connection fails at once: `connection`, never `timeout`. The store never applies
    /// `on_unavailable` itself (the exchange does, and counts it), so it answers `.unavailable` either way.
    @Test func unavailableWhenServerIsDown() throws {
        let port = try RedisServerProcess.freePort()  // nothing listens here
        let store = try RedisReplayStore(url: "redis://127.0.0.1:\(port)", keyPrefix: "sgw:jti:",
                                         timeout: .seconds(2))
        #expect(admit(store, jti: "x", until: now + 60) == .unavailable(.connection))
        #expect(admit(store, jti: "x", until: now + 60) == .unavailable(.connection))
        #expect(store.unavailableCount == 2)
        #expect(ready(store) == false)
    }

    @Test func unavailableWhenServerNeverAnswers() throws {
        let silent = try SilentListener()
        let store = try RedisReplayStore(url: "redis://127.0.0.1:\(silent.port)", keyPrefix: "sgw:jti:",
                                         timeout: .milliseconds(200))
        // Accepted but never answered: the command used up the whole timeout.
        #expect(admit(store, jti: "x", until: now + 60) == .unavailable(.timeout))
        #expect(ready(store) == false)
    }

    @Test func reconnectsWhenServerComesBack() throws {
        let server = try RedisServerProcess()
        let store = try RedisReplayStore(url: "redis://127.0.0.1:\(server.port)", keyPrefix: "sgw:jti:",
                                         timeout: .milliseconds(500))
        #expect(admit(store, jti: "before", until: now + 60) == .fresh)
        server.stop()
        #expect(admit(store, jti: "during", until: now + 60) == .unavailable(.connection))
        try server.start()
        // The new server starts empty; the store must find it again without being rebuilt.
        var answer: ReplayAdmission?
        for attempt in 0..<50 {
            answer = admit(store, jti: "after-\(attempt)", until: now + 60)
            if answer != .unavailable(.connection) && answer != .unavailable(.timeout) { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(answer == .fresh)
        #expect(admit(store, jti: "before", until: now + 60) == .fresh)
        #expect(admit(store, jti: "before", until: now + 60) == .replayed)
    }

    @Test func redisServerIsInstalled() throws {
        // A missing redis-server must fail loudly rather than skip the suite.
        _ = try RedisServerProcess.locateServer()
    }
}
