import Dispatch
import GatewayCore
@testable import GatewayLoop
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// An accept call that fails with `errno` while `failing` is set, and counts its calls.
final class FailingAccept: Sendable {
    let failing = Atomic<Bool>(true)
    let errno: Int32
    private let calls = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)

    init(errno: Int32) { self.errno = errno }

    var callCount: Int { calls.load(ordering: .relaxed) }
    var failureCount: Int { failures.load(ordering: .relaxed) }

    func call(_ fd: Int32) throws(IOError) -> IOResult<(Int32, SocketAddress)> {
        calls.add(1, ordering: .relaxed)
        if failing.load(ordering: .relaxed) {
            failures.add(1, ordering: .relaxed)
            throw IOError(errno: errno, function: "accept4")
        }
        return try Socket.accept(fd)
    }
}

/// The listener's pause on a failing `accept`, driven by a fake accept call over a real listening socket: a client
/// waiting in the backlog keeps the descriptor readable, as a full descriptor table does in production.
@Suite("Listener accept pause")
struct ListenerAcceptPauseTests {
    @Test("out of descriptors: accepting rests instead of spinning, warns once, and resumes when accept works again",
          arguments: [EMFILE, ENFILE])
    func pausesAndResumes(errno: Int32) throws {
        let group = EventLoopGroup(loopCount: 2)
        defer { for loop in group.loops { loop.shutdown() } }
        let listener = try Listener(address: SocketAddress(parsing: "127.0.0.1:0"), group: group)
        let fake = FailingAccept(errno: errno)
        listener.acceptCall = { fd throws(IOError) in try fake.call(fd) }
        let accepted = EventCounter()
        let pauses = Recorder<AcceptPause>()
        let reportedOnLoop = Recorder<Bool>()
        let paused = EventCounter()
        let acceptingLoop = group.loops[0]
        listener.start(onAccept: { fd, _, _ in
            close(fd)
            accepted.record()
        }, onPause: { pause in
            reportedOnLoop.append(acceptingLoop.inLoop)
            pauses.append(pause)
            paused.record()
        })
        defer { listener.stop() }

        let client = try RawSocket.connectBlocking(port: listener.port)
        defer { close(client) }
        #expect(paused.wait(until: 1))
        #expect(group.loops[0].queue.sync { listener.isPaused })
        // A level-triggered source left armed would call accept thousands of times a second; resting 100 ms
        // between tries, it is about ten. Only an upper bound: a slow machine makes fewer calls, never more.
        usleep(1_000_000)
        let calls = fake.callCount
        #expect(calls >= 2, "accept was not retried after the pause")
        #expect(calls <= 40, "accept spun: \(calls) calls in a second")
        #expect(accepted.value == 0)
        // At most one warning a second (two if the machine stalled across the boundary).
        let reports = pauses.all
        #expect((1...2).contains(reports.count))
        #expect(reports.first?.error.errno == errno)
        #expect(reports.first?.pauses == 1)
        #expect(reports.first?.nanos == 100_000_000)
        #expect(reports.first?.address.port == listener.port)
        #expect(reportedOnLoop.all.allSatisfy { $0 }, "reported off the accepting loop")

        // Descriptors are back: the waiting client is taken within a pause or so.
        fake.failing.store(false, ordering: .relaxed)
        #expect(accepted.wait(until: 1))
        #expect(!group.loops[0].queue.sync { listener.isPaused })
        // And accepting goes on as usual.
        let second = try RawSocket.connectBlocking(port: listener.port)
        defer { close(second) }
        #expect(accepted.wait(until: 2))
    }

    @Test("a connection reset before it was taken (ECONNABORTED) does not pause: the next one is taken at once")
    func perConnectionErrorDoesNotPause() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { for loop in group.loops { loop.shutdown() } }
        let listener = try Listener(address: SocketAddress(parsing: "127.0.0.1:0"), group: group)
        // Fails once, then accepts for real.
        let first = Atomic<Bool>(true)
        listener.acceptCall = { fd throws(IOError) in
            if first.exchange(false, ordering: .relaxed) { throw IOError(errno: ECONNABORTED, function: "accept4") }
            return try Socket.accept(fd)
        }
        let accepted = EventCounter()
        let paused = EventCounter()
        listener.start(onAccept: { fd, _, _ in
            close(fd)
            accepted.record()
        }, onPause: { _ in paused.record() })
        defer { listener.stop() }
        let client = try RawSocket.connectBlocking(port: listener.port)
        defer { close(client) }
        #expect(accepted.wait(until: 1))
        #expect(paused.value == 0)
        #expect(!group.loops[0].queue.sync { listener.isPaused })
    }

    @Test("stop while paused closes the listening socket (a suspended source must be resumed to be cancelled)")
    func stopWhilePaused() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { for loop in group.loops { loop.shutdown() } }
        let listener = try Listener(address: SocketAddress(parsing: "127.0.0.1:0"), group: group)
        let fake = FailingAccept(errno: EMFILE)
        listener.acceptCall = { fd throws(IOError) in try fake.call(fd) }
        let paused = EventCounter()
        listener.start(onAccept: { fd, _, _ in close(fd) }, onPause: { _ in paused.record() })
        let client = try RawSocket.connectBlocking(port: listener.port)
        defer { close(client) }
        #expect(paused.wait(until: 1))
        #expect(group.loops[0].queue.sync { listener.isPaused })

        listener.stop()
        let port = listener.port
        let refused = waitUntil {
            guard let fd = try? RawSocket.connectBlocking(port: port) else { return true }
            close(fd)
            return false
        }
        #expect(refused, "the listening socket stayed open after stop()")
        // The pause timer finds the listener stopped and leaves the cancelled source alone.
        let calls = fake.callCount
        usleep(300_000)
        #expect(fake.callCount == calls)
    }
}
