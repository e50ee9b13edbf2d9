import Dispatch
import Foundation
import Logging
import GatewayCore
@testable import GatewayReplay
import Testing
import TestSupport

/// A Sentinel that lags: it keeps naming `named` as the master, while the test pushes `+switch-master` on the
/// subscribed connection whenever it likes (as a more up-to-date Sentinel would have published it).
final class LaggingSentinel: @unchecked Sendable {
    let named: Locked<Int>
    private let subscriber = Locked<Int32?>(nil)
    private var peer: ScriptedRedisPeer?

    var port: Int { peer?.port ?? 0 }

    init(naming port: Int) throws {
        named = Locked(port)
        peer = try ScriptedRedisPeer { [weak self] fd in self?.serve(fd) }
    }

    private func serve(_ fd: Int32) {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            let text = String(decoding: buf[0..<n], as: UTF8.self)
            if text.contains("SUBSCRIBE") {
                ScriptedRedisPeer.send(fd, "*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n")
                subscriber.withLock { $0 = fd }
            }
            let queries = text.components(separatedBy: "get-master-addr-by-name").count - 1
            for _ in 0..<queries {
                let port = String(named.withLock { $0 })
                ScriptedRedisPeer.send(fd, "*2\r\n$9\r\n127.0.0.1\r\n$\(port.utf8.count)\r\n\(port)\r\n")
            }
        }
    }

    var isSubscribed: Bool { subscriber.withLock { $0 != nil } }

    /// Publishes `+switch-master <name> 127.0.0.1 <old> 127.0.0.1 <new>` to the subscriber.
    func publishSwitch(name: String, from old: Int, to new: Int) {
        let payload = "\(name) 127.0.0.1 \(old) 127.0.0.1 \(new)"
        let message = "*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$\(payload.utf8.count)\r\n\(payload)\r\n"
        if let fd = subscriber.withLock({ $0 }) { ScriptedRedisPeer.send(fd, message) }
    }
}

/// What the Sentinel router does with a `+switch-master` when the Sentinel it asks has not caught up yet.
@Suite(.serialized) struct RedisSentinelSwitchTests {
    func admit(_ store: RedisReplayStore, _ jti: String) -> ReplayAdmission? { StoreAnswers.admit(store, jti: jti) }

    /// Both nodes answer `ROLE` with master, as an old master does until Sentinel demotes it (it may be cut off
    /// from the Sentinels but not from this gateway). The `+switch-master` names the new one; a Sentinel that has
    /// not heard of the failover yet still names the old one. Trusting that stale answer sends every admit to the
    /// old master, whose keys the new master never sees: each such token can be admitted again.
    @Test func aSwitchIsFollowedEvenWhenTheSentinelAskedStillNamesTheOldMaster() throws {
        let old = try RedisServerProcess()
        let new = try RedisServerProcess()
        let sentinel = try LaggingSentinel(naming: old.port)
        let endpoint = try RedisEndpoint(url: "redis+sentinel://127.0.0.1:\(sentinel.port)/mymaster")
        let store = RedisReplayStore(endpoint: endpoint, keyPrefix: "sw:", timeout: .seconds(2))

        #expect(admit(store, "before") == .fresh)
        #expect(old.command("EXISTS sw:app:before") == ":1\r\n")
        #expect(waitUntilTrue(seconds: 10) { sentinel.isSubscribed })

        sentinel.publishSwitch(name: "mymaster", from: old.port, to: new.port)
        // Admits until one lands on the new master (the push and the admits travel on different connections).
        var landed = false
        for i in 0..<100 where !landed {
            // An admit in flight on the old master when the switch arrives fails (503, retried by the client on the
            // new master) rather than be answered from a master whose writes the new one will never see.
            let answer = admit(store, "after-\(i)")
            #expect(answer == .fresh || answer == .unavailable(.connection), "\(String(describing: answer))")
            landed = new.command("EXISTS sw:app:after-\(i)") == ":1\r\n"
            if !landed { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(landed, "after +switch-master the store kept admitting on the old master the lagging Sentinel named")
    }

    func waitUntilTrue(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }
}

/// Collects log messages (for counting warnings).
final class CollectingLogHandler: LogHandler, @unchecked Sendable {
    private let messages = Locked<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.withLock { $0.append(event.message.description) }
    }

    var all: [String] { messages.withLock { $0 } }
}

@Suite(.serialized) struct RedisSentinelWarningTests {
    /// While no master can be found each admit (at most one discovery per 100 ms per loop) fails; an outage of a few
    /// seconds must not write a warning per discovery, only one a second with a count, as the other repeated
    /// warnings do.
    @Test func noMasterIsWarnedAboutAtMostOnceASecond() throws {
        let dead = try RedisServerProcess.freePort()  // a "sentinel" nobody answers on
        let endpoint = try RedisEndpoint(url: "redis+sentinel://127.0.0.1:\(dead)/mymaster")
        let handler = CollectingLogHandler()
        let logger = Logger(label: "test") { _ in handler }
        let store = RedisReplayStore(endpoint: endpoint, keyPrefix: "w:", timeout: .seconds(2), logger: logger)
        let now = SystemClock().wallSeconds()
        let start = Date()
        var admits = 0
        // About 0.5 s of admits, one every 20 ms: each discovery (every 100 ms or so) finds no master.
        while Date().timeIntervalSince(start) < 0.5 {
            let done = DispatchSemaphore(value: 0)
            store.admit(app: "app", jti: "j\(admits)", until: now + 60) { _ in done.signal() }
            #expect(done.wait(timeout: .now() + 15) == .success)
            admits += 1
            Thread.sleep(forTimeInterval: 0.02)
        }
        let elapsed = Date().timeIntervalSince(start)
        let warnings = handler.all.filter { $0.contains("no sentinel named a reachable master") }.count
        #expect(warnings >= 1)
        // One at once, then at most one per further second (the bound grows if a slow machine stretched the run).
        #expect(warnings <= 1 + Int(elapsed), "\(warnings) warnings for \(admits) admits in \(elapsed) s")
    }
}
