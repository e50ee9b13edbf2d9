#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import GatewayCore

/// What a non-blocking read produced.
public enum ReadResult: Sendable, Equatable {
    case bytes(Int)
    case eof
    case wouldBlock
}

/// One connected socket registered on a loop: owns the descriptor and its readiness registration.
///
/// Readiness comes from the loop's `Poller` (one epoll set per loop behind one Dispatch source) or, when the loop
/// runs with `.perConnectionSources`, from a Dispatch read source per socket and a write source while a write waits.
/// Reading is paused and resumed for back-pressure. `onReadable`/`onWritable` keep their owner alive until `close()`.
public final class SocketChannel {
    public let fd: Int32
    public let loop: EventLoop
    private var readSource: DispatchSourceRead?
    private var readPaused = true
    private var writeSource: DispatchSourceWrite?
    private var writeWaiting = false
    private var liveSources = 1
    private var registered = false
    public private(set) var isClosed = false

    public var onReadable: (() -> Void)?
    public var onWritable: (() -> Void)?

    /// Adopts `fd` (already non-blocking); reading starts with `resumeReading()`.
    public init(fd: Int32, loop: EventLoop) {
        self.fd = fd
        self.loop = loop
        if loop.poller == nil {
            let rs = DispatchSource.makeReadSource(fileDescriptor: fd, queue: loop.queue)
            // The handlers keep the channel alive until its sources are cancelled (see sourceCancelled).
            rs.setEventHandler { self.onReadable?() }
            rs.setCancelHandler { self.sourceCancelled() }
            readSource = rs
        }
    }

    deinit {
        // Only reached when an owner dropped the channel without close(): a suspended source must be
        // resumed before release or libdispatch aborts.
        guard !isClosed else { return }
        if let rs = readSource {
            rs.setEventHandler(handler: nil)
            rs.setCancelHandler(handler: nil)
            rs.cancel()
            if readPaused { rs.resume() }
        }
        if let ws = writeSource {
            ws.setEventHandler(handler: nil)
            ws.setCancelHandler(handler: nil)
            ws.cancel()
            if !writeWaiting { ws.resume() }
        }
        Glibc.close(fd)
    }

    public var isReadingPaused: Bool { readPaused }

    private var interest: UInt32 {
        (readPaused ? 0 : Epoll.input) | (writeWaiting ? Epoll.output : 0)
    }

    /// Called by the poller with the ready events.
    func ready(events: UInt32) {
        if events & (Epoll.output | Epoll.error) != 0 && writeWaiting { onWritable?() }
        if isClosed { return }
        if events & (Epoll.input | Epoll.peerHangUp | Epoll.hangUp | Epoll.error) != 0 {
            if !readPaused {
                onReadable?()
            } else if events & (Epoll.hangUp | Epoll.error | Epoll.peerHangUp) != 0 && !writeWaiting {
                // A hang-up is reported whatever the interest; while paused it would spin, so leave the set
                // until reading resumes (re-adding reports it again then).
                loop.poller?.forget(self, registered: &registered)
            }
        }
    }

    public func resumeReading() {
        guard readPaused, !isClosed else { return }
        readPaused = false
        if let p = loop.poller {
            p.update(self, interest: interest, registered: &registered)
        } else {
            readSource?.resume()
        }
    }

    public func pauseReading() {
        guard !readPaused, !isClosed else { return }
        readPaused = true
        if let p = loop.poller {
            p.update(self, interest: interest, registered: &registered)
        } else {
            readSource?.suspend()
        }
    }

    /// Asks for `onWritable` calls while the socket can take more bytes (until `stopWaitingForWritable`).
    public func waitForWritable() {
        guard !writeWaiting, !isClosed else { return }
        writeWaiting = true
        if let p = loop.poller {
            p.update(self, interest: interest, registered: &registered)
        } else if let ws = writeSource {
            ws.resume()
        } else {
            let ws = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: loop.queue)
            ws.setEventHandler { self.onWritable?() }
            ws.setCancelHandler { self.sourceCancelled() }
            liveSources += 1
            writeSource = ws
            ws.resume()
        }
    }

    public func stopWaitingForWritable() {
        guard writeWaiting, !isClosed else { return }
        writeWaiting = false
        if let p = loop.poller {
            p.update(self, interest: interest, registered: &registered)
        } else {
            writeSource?.suspend()
        }
    }

    @inline(__always)
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> ReadResult {
        switch try Syscall.call("read", { Glibc.read(fd, buffer.baseAddress, buffer.count) }) {
        case .wouldBlock: return .wouldBlock
        case .processed(0): return .eof
        case .processed(let n): return .bytes(n)
        }
    }

    @inline(__always)
    public func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) -> IOResult<Int> {
        if bytes.isEmpty { return .processed(0) }
        return try Syscall.call("send") { send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Gathers several buffers into one `sendmsg`.
    public func writev(_ buffers: UnsafeBufferPointer<iovec>) throws(IOError) -> IOResult<Int> {
        var msg = msghdr()
        msg.msg_iov = UnsafeMutablePointer(mutating: buffers.baseAddress)
        msg.msg_iovlen = buffers.count
        return try Syscall.call("sendmsg") { sendmsg(fd, &msg, Int32(MSG_NOSIGNAL)) }
    }

    /// Half-closes the write side (FIN) without releasing the descriptor.
    public func shutdownWrite() {
        if !isClosed { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }
    }

    /// Stops readiness and closes the descriptor (after the sources are cancelled, with per-connection sources);
    /// drops the callbacks (and so the owner).
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        onReadable = nil
        onWritable = nil
        if let p = loop.poller {
            p.forget(self, registered: &registered)
            Glibc.close(fd)
            return
        }
        guard let rs = readSource else { return }
        rs.cancel()
        if readPaused { readPaused = false; rs.resume() }
        if let ws = writeSource {
            ws.cancel()
            if !writeWaiting { writeWaiting = true; ws.resume() }
        }
    }

    private func sourceCancelled() {
        liveSources -= 1
        if liveSources == 0 {
            Glibc.close(fd)
            readSource?.setEventHandler(handler: nil)
            readSource?.setCancelHandler(handler: nil)
            writeSource?.setEventHandler(handler: nil)
            writeSource?.setCancelHandler(handler: nil)
        }
    }
}
