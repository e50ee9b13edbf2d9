#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import GatewayCore
import GatewayLoop
import Testing

/// `EventLoop.now()` reads the clock once per poll round: every read while ready sockets are handled gives the
/// round's time; outside a round (a queued block, a timer) each read is the clock's.
@Suite("EventLoop round clock")
struct EventLoopRoundClockTests {
    final class Readings: @unchecked Sendable {
        var values: [UInt64] = []
        let done = DispatchSemaphore(value: 0)
    }

    @Test("inside a socket event: one time for the round; in a queued block: the clock")
    func roundAndOutside() throws {
        let loop = EventLoop(index: 40)
        defer { loop.shutdown() }
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { Glibc.close(fds[1]) }
        let inRound = Readings()
        let channel = loop.queue.sync { SocketChannel(fd: fds[0], loop: loop) }
        defer { loop.queue.sync { channel.close() } }
        loop.queue.sync {
            channel.onReadable = {
                guard inRound.values.isEmpty else { return }
                inRound.values.append(loop.now())
                usleep(20_000)
                inRound.values.append(loop.now())
                var b = [UInt8](repeating: 0, count: 8)
                _ = b.withUnsafeMutableBytes { Glibc.read(fds[0], $0.baseAddress, 8) }
                inRound.done.signal()
            }
            channel.resumeReading()
        }
        let before = SystemClock().monotonicNanos()
        #expect(Glibc.write(fds[1], "x", 1) == 1)
        #expect(inRound.done.wait(timeout: .now() + 5) == .success)
        let after = SystemClock().monotonicNanos()
        #expect(inRound.values.count == 2)
        #expect(inRound.values.first == inRound.values.last)
        if let t = inRound.values.first { #expect(t >= before && t <= after) }

        let outside = loop.queue.sync { () -> (UInt64, UInt64) in
            let a = loop.now()
            usleep(20_000)
            return (a, loop.now())
        }
        #expect(outside.1 >= outside.0 + 15_000_000)
    }
}
