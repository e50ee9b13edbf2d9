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

/// One connected socket registered on a loop: owns the descriptor and its read/write sources.
///
/// Reading is paused and resumed for back-pressure; the write source exists only while a write is waiting.
/// `onReadable`/`onWritable` keep their owner alive until `close()`.
public final class SocketChannel {
    public let fd: Int32
    public let loop: EventLoop
    private let readSource: DispatchSourceRead
    private var readPaused = true
    private var writeSource: DispatchSourceWrite?
    private var writeWaiting = false
    private var liveSources = 1
    public private(set) var isClosed = false

    public var onReadable: (() -> Void)?
    public var onWritable: (() -> Void)?

    /// Adopts `fd` (already non-blocking); reading starts with `resumeReading()`.
    public init(fd: Int32, loop: EventLoop) {
        self.fd = fd
        self.loop = loop
        readSource = DispatchSource.makeReadSource(fileDescriptor: fd, queue: loop.queue)
        // The handlers keep the channel alive until its sources are cancelled (see sourceCancelled).
        readSource.setEventHandler { self.onReadable?() }
        readSource.setCancelHandler { self.sourceCancelled() }
    }

    deinit {
        // Only reached when an owner dropped the channel without close(): a suspended source must be
        // resumed before release or libdispatch aborts.
        guard !isClosed else { return }
        readSource.setEventHandler(handler: nil)
        readSource.setCancelHandler(handler: nil)
        readSource.cancel()
        if readPaused { readSource.resume() }
        if let ws = writeSource {
            ws.setEventHandler(handler: nil)
            ws.setCancelHandler(handler: nil)
            ws.cancel()
            if !writeWaiting { ws.resume() }
        }
        Glibc.close(fd)
    }

    public var isReadingPaused: Bool { readPaused }

    public func resumeReading() {
        guard readPaused, !isClosed else { return }
        readPaused = false
        readSource.resume()
    }

    public func pauseReading() {
        guard !readPaused, !isClosed else { return }
        readPaused = true
        readSource.suspend()
    }

    /// Asks for one `onWritable` call when the socket can take more bytes (repeats until `stopWaitingForWritable`).
    public func waitForWritable() {
        guard !writeWaiting, !isClosed else { return }
        writeWaiting = true
        if let ws = writeSource {
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
        guard writeWaiting, !isClosed, let ws = writeSource else { return }
        writeWaiting = false
        ws.suspend()
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

    /// Cancels the sources and closes the descriptor once they are gone; drops the callbacks (and so the owner).
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        onReadable = nil
        onWritable = nil
        readSource.cancel()
        if readPaused { readPaused = false; readSource.resume() }
        if let ws = writeSource {
            ws.cancel()
            if !writeWaiting { writeWaiting = true; ws.resume() }
        }
    }

    private func sourceCancelled() {
        liveSources -= 1
        if liveSources == 0 {
            Glibc.close(fd)
            readSource.setEventHandler(handler: nil)
            readSource.setCancelHandler(handler: nil)
            writeSource?.setEventHandler(handler: nil)
            writeSource?.setCancelHandler(handler: nil)
        }
    }
}
