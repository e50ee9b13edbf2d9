import Dispatch
import Foundation
import GatewayCore
import GatewayLoop
@testable import GatewayReplay
import Synchronization
import Testing
import TestSupport

/// A Redis peer that plays a script: each accepted connection runs `serve` on its own thread with the socket.
final class ScriptedRedisPeer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    let accepted = Atomic<Int>(0)

    init(serve: @escaping @Sendable (Int32) -> Void) throws {
        let s = SilentListenerSocket.make()
        struct ListenFailed: Error {}
        guard let s else { throw ListenFailed() }
        (fd, port) = s
        let listenFD = fd
        Thread.detachNewThread { [weak self] in
            while true {
                let c = accept(listenFD, nil, nil)
                if c < 0 { return }
                self?.accepted.add(1, ordering: .relaxed)
                Thread.detachNewThread {
                    serve(c)
                    close(c)
                }
            }
        }
    }

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    /// Reads until `count` complete commands (lines starting with `*`) arrived; false on EOF.
    static func readCommands(_ fd: Int32, count: Int) -> Bool {
        var seen = 0
        var text = ""
        var buf = [UInt8](repeating: 0, count: 65536)
        while seen < count {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return false }
            text += String(decoding: buf[0..<n], as: UTF8.self)
            // Each command of the store ends with NX, DEL's key, or PING; counting `*` at line starts is enough here.
            seen = text.split(separator: "\r\n").filter { $0.hasPrefix("*") }.count
        }
        return true
    }

    static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

enum SilentListenerSocket {
    static func make() -> (Int32, Int)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var addr = RedisServerProcess.loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                bind(fd, p, len) == 0 && listen(fd, 16) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard ok else { close(fd); return nil }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }
}

/// The loop-driven store against real and scripted Redis peers: pipelining, replies in any split, and a peer that
/// answers garbage, too late, too much, or hangs up mid-pipeline.
@Suite(.serialized) struct RedisPipelineTests {
    var now: Int64 { SystemClock().wallSeconds() }

    /// Issues `jtis.count` admits from inside one turn of the store's loop (one batch) and waits for every answer.
    func admitInOneBatch(_ store: RedisReplayStore, loop: EventLoop, jtis: [String]) -> [ReplayAdmission]? {
        let answers = Locked<[Int: ReplayAdmission]>([:])
        let group = DispatchGroup()
        for _ in jtis { group.enter() }
        let until = now + 60
        loop.execute {
            for (i, jti) in jtis.enumerated() {
                store.admit(app: "app", jti: jti, until: until) { a in
                    answers.withLock { $0[i] = a }
                    group.leave()
                }
            }
        }
        guard group.wait(timeout: .now() + 15) == .success else { return nil }
        return answers.withLock { d in jtis.indices.map { d[$0] ?? .fresh } }
    }

    func writes(_ store: RedisReplayStore) -> Int {
        let box = Locked(-1)
        let done = DispatchSemaphore(value: 0)
        store.writeCount { n in box.withLock { $0 = n }; done.signal() }
        _ = done.wait(timeout: .now() + 10)
        return box.withLock { $0 }
    }

    @Test func admitsOfOneBatchLeaveInOneWrite() throws {
        let server = try RedisServerProcess()
        let group = EventLoopGroup(loopCount: 1)
        let loop = group.loops[0]
        let store = RedisReplayStore(endpoint: RedisEndpoint(host: "127.0.0.1", port: server.port), keyPrefix: "p:",
                                     timeout: .seconds(2), loops: [loop])
        // Connect first, so the count below covers only the batch.
        #expect(admitInOneBatch(store, loop: loop, jtis: ["warm-up"]) == [.fresh])
        let before = writes(store)
        let jtis = (0..<200).map { "batch-\($0)" }
        let answers = admitInOneBatch(store, loop: loop, jtis: jtis + jtis.prefix(10))
        #expect(answers == Array(repeating: .fresh, count: 200) + Array(repeating: .replayed, count: 10))
        // 210 SETs in one write of ~16 KB.
        #expect(writes(store) - before == 1)
    }

    @Test func repliesSplitByteByByteAreMatchedInOrder() throws {
        let peer = try ScriptedRedisPeer { fd in
            guard ScriptedRedisPeer.readCommands(fd, count: 3) else { return }
            for b in "+OK\r\n$-1\r\n-OOM command not allowed\r\n".utf8 {
                ScriptedRedisPeer.send(fd, String(decoding: [b], as: UTF8.self))
                usleep(500)
            }
            _ = ScriptedRedisPeer.readCommands(fd, count: 1)
        }
        let group = EventLoopGroup(loopCount: 1)
        let store = RedisReplayStore(endpoint: RedisEndpoint(host: "127.0.0.1", port: peer.port), keyPrefix: "p:",
                                     timeout: .seconds(5), loops: group.loops)
        #expect(admitInOneBatch(store, loop: group.loops[0], jtis: ["a", "b", "c"]) == [.fresh, .replayed, .unavailable(.reply)])
    }

    @Test func bytesThatAreNotRESPFailEverythingWaiting() throws {
        let peer = try ScriptedRedisPeer { fd in
            guard ScriptedRedisPeer.readCommands(fd, count: 2) else { return }
            ScriptedRedisPeer.send(fd, "HTTP/1.1 400 Bad Request\r\n\r\n")
            usleep(200_000)
        }
        let group = EventLoopGroup(loopCount: 1)
        let store = RedisReplayStore(endpoint: RedisEndpoint(host: "127.0.0.1", port: peer.port), keyPrefix: "p:",
                                     timeout: .seconds(5), loops: group.loops)
        #expect(admitInOneBatch(store, loop: group.loops[0], jtis: ["a", "b"]) == [.unavailable(.reply), .unavailable(.reply)])
        #expect(peer.accepted.load(ordering: .relaxed) == 1)
    }

    @Test func aPeerHangingUpMidPipelineFailsEveryWaitingAdmitAsConnection() throws {
        let peer = try ScriptedRedisPeer { fd in
            guard ScriptedRedisPeer.readCommands(fd, count: 3) else { return }
            ScriptedRedisPeer.send(fd, "+OK\r\n")
        }
        let group = EventLoopGroup(loopCount: 1)
        let store = RedisReplayStore(endpoint: RedisEndpoint(host: "127.0.0.1", port: peer.port), keyPrefix: "p:",
                                     timeout: .seconds(5), loops: group.loops)
        #expect(admitInOneBatch(store, loop: group.loops[0], jtis: ["a", "b", "c"])
            == [.fresh, .unavailable(.connection), .unavailable(.connection)])
    }

    @Test func aReplyAfterTheTimeoutIsNeverTakenForTheNextCommandsAnswer() throws {
        // The first connection answers `+OK` only after the timeout; the store must drop that connection, so the
        // late `+OK` cannot become the answer to the next admit (which is a replay on the second connection).
        let connections = Atomic<Int>(0)
        let peer = try ScriptedRedisPeer { fd in
            let n = connections.add(1, ordering: .relaxed).newValue
            guard ScriptedRedisPeer.readCommands(fd, count: 1) else { return }
            if n == 1 {
                usleep(400_000)
                ScriptedRedisPeer.send(fd, "+OK\r\n")
                usleep(200_000)
            } else {
                ScriptedRedisPeer.send(fd, "$-1\r\n")
                _ = ScriptedRedisPeer.readCommands(fd, count: 1)
            }
        }
        let group = EventLoopGroup(loopCount: 1)
        let store = RedisReplayStore(endpoint: RedisEndpoint(host: "127.0.0.1", port: peer.port), keyPrefix: "p:",
                                     timeout: .milliseconds(100), loops: group.loops)
        #expect(admitInOneBatch(store, loop: group.loops[0], jtis: ["slow"]) == [.unavailable(.timeout)])
        var answer: ReplayAdmission?
        for _ in 0..<100 {
            answer = admitInOneBatch(store, loop: group.loops[0], jtis: ["next"])?.first
            if answer != .unavailable(.connection) { break }
            Thread.sleep(forTimeInterval: 0.02)  // backing off after the timeout
        }
        #expect(answer == .replayed)
    }

    @Test func aReplyNobodyAskedForDropsTheConnection() throws {
        let peer = try ScriptedRedisPeer { fd in
            guard ScriptedRedisPeer.readCommands(fd, count: 1) else { return }
            ScriptedRedisPeer.send(fd, "+OK\r\n+OK\r\n")
            // The store must hang up on the extra reply.
            var b = [UInt8](repeating: 0, count: 16)
            _ = b.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        }
        let group = EventLoopGroup(loopCount: 1)
        let store = RedisReplayStore(endpoint: RedisEndpoint(host: "127.0.0.1", port: peer.port), keyPrefix: "p:",
                                     timeout: .seconds(5), loops: group.loops)
        // The answer already given stands; a second admit right after finds the store backing off.
        #expect(admitInOneBatch(store, loop: group.loops[0], jtis: ["a"]) == [.fresh])
        var second: ReplayAdmission?
        for _ in 0..<50 {
            second = admitInOneBatch(store, loop: group.loops[0], jtis: ["b"])?.first
            if second == .unavailable(.connection) { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(second == .unavailable(.connection))
    }
}
