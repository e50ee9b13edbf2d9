@testable import GatewayLoop
import Dispatch
import GatewayCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a channel's callbacks saw, readable from the test thread.
final class ChannelProbe: Sendable {
    let readableCalls = EventCounter()
    let writableCalls = EventCounter()
    private let state = Locked<(bytes: [UInt8], eof: Bool, error: IOError?)>(([], false, nil))

    var text: String { state.withLock { String(decoding: $0.bytes, as: UTF8.self) } }
    var sawEOF: Bool { state.withLock { $0.eof } }
    var error: IOError? { state.withLock { $0.error } }

    func received(_ bytes: UnsafeRawBufferPointer) { state.withLock { $0.bytes.append(contentsOf: bytes) } }
    func eof() { state.withLock { $0.eof = true } }
    func failed(_ e: IOError) { state.withLock { $0.error = e } }

    /// Waits until the received text equals `expected` (generous limit).
    func wait(forText expected: String, seconds: Double = 5) -> Bool {
        let deadline = DispatchTime.now() + seconds
        while text != expected {
            if DispatchTime.now() > deadline { return false }
            _ = readableCalls.wait(seconds: 0.05)
        }
        return true
    }

    func waitForEOF(seconds: Double = 5) -> Bool {
        let deadline = DispatchTime.now() + seconds
        while !sawEOF {
            if DispatchTime.now() > deadline { return false }
            _ = readableCalls.wait(seconds: 0.05)
        }
        return true
    }
}

/// Holds a channel for a test: touched only on the channel's loop; `released` tells whether anything else keeps it.
final class ChannelBox: @unchecked Sendable {
    var channel: SocketChannel?
    weak var watched: SocketChannel?

    init(_ channel: SocketChannel) {
        self.channel = channel
        watched = channel
    }

    /// Runs `body` with the channel on its loop.
    func run<R>(on loop: EventLoop, _ body: (SocketChannel) -> R) -> R? {
        loop.queue.sync { channel.map(body) }
    }

    /// Closes the channel and drops the test's reference.
    func close(on loop: EventLoop) {
        loop.queue.sync {
            channel?.close()
            channel = nil
        }
    }

    func released(on loop: EventLoop) -> Bool { loop.queue.sync { watched == nil } }
}

@Suite("SocketChannel")
struct SocketChannelTests {
    /// Opens a channel on `loop` that reads everything into `probe` and pauses at EOF.
    static func openChannel(fd: Int32, loop: EventLoop, probe: ChannelProbe) -> ChannelBox {
        loop.queue.sync {
            let channel = SocketChannel(fd: fd, loop: loop)
            #expect(channel.isReadingPaused)
            channel.onReadable = {
                probe.readableCalls.record()
                do throws(IOError) {
                    while true {
                        switch try channel.read(into: loop.readBuffer) {
                        case .bytes(let n): probe.received(UnsafeRawBufferPointer(rebasing: loop.readBuffer[0..<n]))
                        case .wouldBlock: return
                        case .eof:
                            probe.eof()
                            // Level-triggered readiness would report EOF again and again.
                            channel.pauseReading()
                            return
                        }
                    }
                } catch {
                    probe.failed(error)
                    channel.pauseReading()
                }
            }
            channel.resumeReading()
            return ChannelBox(channel)
        }
    }

    @Test("read, pause, resume, write, writable, EOF and close between two real sockets",
          arguments: [EventLoop.Readiness.multiplexed, .perConnectionSources])
    func lifecycle(readiness: EventLoop.Readiness) throws {
        let loop = EventLoop(index: 30, readiness: readiness)
        defer { loop.shutdown() }
        #expect((loop.poller != nil) == (readiness == .multiplexed))
        let (peer, fd) = try RawSocket.tcpPair(fdFloor: readiness == .multiplexed ? 4000 : 4500)
        defer { close(peer) }
        let probe = ChannelProbe()
        let box = Self.openChannel(fd: fd, loop: loop, probe: probe)

        // onReadable fires for bytes the peer sends.
        RawSocket.send(peer, "ping")
        #expect(probe.wait(forText: "ping"))

        // pauseReading stops the callbacks: bytes sent meanwhile stay in the socket.
        let paused = box.run(on: loop) { ch in
            ch.pauseReading()
            return ch.isReadingPaused
        }
        #expect(paused == true)
        let callsWhilePaused = probe.readableCalls.value
        RawSocket.send(peer, "more")
        #expect(probe.readableCalls.stays(at: callsWhilePaused, seconds: 0.3))
        #expect(probe.text == "ping")

        // resumeReading restarts them and the waiting bytes arrive.
        box.run(on: loop) { $0.resumeReading() }
        #expect(probe.wait(forText: "pingmore"))

        // write reaches the peer.
        let written = box.run(on: loop) { ch -> Int in
            let bytes = Array("pong".utf8)
            let r = bytes.withUnsafeBytes { try? ch.write($0) }
            if case .processed(let n) = r { return n }
            return -1
        }
        #expect(written == 4)
        #expect(RawSocket.receive(peer, count: 4) == Array("pong".utf8))

        // waitForWritable fires onWritable; stopWaitingForWritable ends the calls.
        box.run(on: loop) { ch in
            ch.onWritable = { [unowned ch] in
                probe.writableCalls.record()
                ch.stopWaitingForWritable()
            }
            ch.waitForWritable()
        }
        #expect(probe.writableCalls.wait(seconds: 5))
        #expect(probe.writableCalls.stays(at: 1, seconds: 0.2))

        // EOF from the peer reaches the reader.
        shutdown(peer, Int32(SHUT_WR))
        #expect(probe.waitForEOF())
        #expect(probe.error == nil)
        #expect(box.run(on: loop) { $0.isReadingPaused } == true)

        // close releases the descriptor (the peer sees EOF) and the channel itself; a second close is harmless.
        let closed = box.run(on: loop) { ch in
            ch.close()
            ch.close()
            return ch.isClosed
        }
        #expect(closed == true)
        box.close(on: loop)
        #expect(RawSocket.seesEOF(peer))
        #expect(waitUntil { RawSocket.isClosed(fd) })
        #expect(waitUntil { box.released(on: loop) })
    }

    @Test("closing a channel whose reading is paused and write wait is armed releases it",
          arguments: [EventLoop.Readiness.multiplexed, .perConnectionSources])
    func closeWhilePausedAndWaiting(readiness: EventLoop.Readiness) throws {
        let loop = EventLoop(index: 31, readiness: readiness)
        defer { loop.shutdown() }
        let (peer, fd) = try RawSocket.tcpPair(fdFloor: readiness == .multiplexed ? 5000 : 5500)
        defer { close(peer) }
        let probe = ChannelProbe()
        let box = Self.openChannel(fd: fd, loop: loop, probe: probe)
        box.run(on: loop) { ch in
            ch.pauseReading()
            // Armed in the same turn of the loop as the close, so the callback never runs: close must drop it.
            ch.onWritable = { ch.stopWaitingForWritable() }
            ch.waitForWritable()
        }
        box.close(on: loop)
        #expect(RawSocket.seesEOF(peer))
        #expect(waitUntil { RawSocket.isClosed(fd) })
        #expect(waitUntil { box.released(on: loop) })
    }

    @Test("bytes sent before reading starts are delivered on resume", arguments: [EventLoop.Readiness.multiplexed, .perConnectionSources])
    func earlyBytes(readiness: EventLoop.Readiness) throws {
        let loop = EventLoop(index: 32, readiness: readiness)
        defer { loop.shutdown() }
        let (peer, fd) = try RawSocket.tcpPair(fdFloor: readiness == .multiplexed ? 6000 : 6500)
        defer { close(peer) }
        RawSocket.send(peer, "early")
        shutdown(peer, Int32(SHUT_WR))
        let probe = ChannelProbe()
        let box = Self.openChannel(fd: fd, loop: loop, probe: probe)
        #expect(probe.wait(forText: "early"))
        #expect(probe.waitForEOF())
        box.close(on: loop)
        #expect(RawSocket.seesEOF(peer))
        #expect(waitUntil { box.released(on: loop) })
    }
}

/// Polls `condition` every 10 ms until it holds; the limit only turns a hang into a failure.
func waitUntil(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = DispatchTime.now() + seconds
    while !condition() {
        if DispatchTime.now() > deadline { return false }
        usleep(10_000)
    }
    return true
}
