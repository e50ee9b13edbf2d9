@testable import GatewayLoop
import Dispatch
import GatewayCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The poller lingers in `epoll_wait` while sockets keep it busy; blocks queued on the loop meanwhile must still run
/// (a queued block ends the linger through the loop's eventfd).
@Suite("Poller linger")
struct PollerLingerTests {
    @Test("blocks queued from another thread while socket traffic keeps the loop busy all run, some ending a linger")
    func queuedWorkEndsTheLinger() throws {
        let loop = EventLoop(index: 40)
        defer { loop.shutdown() }
        let (peer, fd) = try RawSocket.tcpPair(fdFloor: 4700)
        defer { close(peer) }
        let probe = ChannelProbe()
        let box = SocketChannelTests.openChannel(fd: fd, loop: loop, probe: probe)
        defer { box.close(on: loop) }

        // One byte every 200 µs for as long as the blocks below are being queued.
        let stop = EventCounter()
        let sender = DispatchQueue(label: "linger-test-sender")
        let sent = EventCounter()
        sender.async {
            while stop.value == 0 {
                RawSocket.send(peer, "x")
                sent.record()
                usleep(200)
            }
            sent.record()
        }
        #expect(probe.readableCalls.wait(seconds: 5))

        let ran = EventCounter()
        let blocks = 200
        for _ in 0..<blocks {
            loop.execute { ran.record() }
            usleep(1_000)
        }
        #expect(ran.wait(until: blocks, seconds: 10))
        stop.record()
        _ = sent.wait(until: sent.value + 1, seconds: 5)

        let (lingers, wakeUps) = loop.queue.sync { (loop.poller?.lingers ?? 0, loop.poller?.wakeUps ?? 0) }
        #expect(lingers > 0)
        #expect(wakeUps > 0)
        #expect(ran.stays(at: blocks, seconds: 0.1))
    }
}
