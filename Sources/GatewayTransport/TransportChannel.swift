import GatewayCore
import GatewayLoop
import GatewayTLS

/// How far a TLS handshake got after the bytes available so far.
public enum HandshakeProgress {
    case complete
    case pending
    case failed(String)
}

/// A connected socket, in plain TCP or under TLS: plaintext in and out, queued output for back-pressure
/// (pending ciphertext counts as queued), close_notify on close. Client and upstream connections both use it.
///
/// Plain TCP goes straight to the socket: one branch on `tls` is all the TLS support costs it.
public final class TransportChannel {
    public let channel: SocketChannel
    public let tls: TLSConnection?
    private var out = OutboundBuffer()
    private var cipherScratch: [UInt8] = []
    /// TLS only: plaintext or ciphertext may wait inside OpenSSL, where no socket event will announce it.
    private var tlsMayHaveInput = false
    private var readKickScheduled = false
    private var sawEOF = false
    private var tlsFailed = false

    public init(channel: SocketChannel, tls: TLSConnection? = nil) {
        self.channel = channel
        self.tls = tls
    }

    public var isTLS: Bool { tls != nil }
    public var loop: EventLoop { channel.loop }
    public var isClosed: Bool { channel.isClosed }
    public var isReadingPaused: Bool { channel.isReadingPaused }
    /// Bytes (ciphertext under TLS) waiting for the socket.
    public var queuedCount: Int { out.count }
    public var hasQueuedOutput: Bool { !out.isEmpty }
    /// The peer is not keeping up: the socket refused bytes and the write source is armed.
    public var isBlocked: Bool { out.isBlocked }

    /// Plain TCP: a read shorter than the buffer emptied the socket. Under TLS it says nothing: a read returns
    /// one record, and the rest may already wait inside OpenSSL, where no readiness event will announce it.
    public var shortReadDrains: Bool { tls == nil }

    public var onReadable: (() -> Void)? {
        get { channel.onReadable }
        set { channel.onReadable = newValue }
    }

    public var onWritable: (() -> Void)? {
        get { channel.onWritable }
        set { channel.onWritable = newValue }
    }

    // MARK: reading

    /// Reads plaintext into `buffer`.
    @inline(__always)
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> ReadResult {
        guard let tls else { return try channel.read(into: buffer) }
        return try readTLS(tls, into: buffer)
    }

    private func readTLS(_ tls: TLSConnection, into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> ReadResult {
        while true {
            let (result, n) = tls.read(into: buffer)
            switch result {
            case .complete:
                tlsMayHaveInput = true
                guard flushCiphertext() else { throw IOError(errno: 32, function: "send") }
                if n > 0 { return .bytes(n) }
            case .closed:
                _ = flushCiphertext()
                return .eof
            case .failed:
                _ = flushCiphertext()
                tlsFailed = true
                // A peer that closes without close_notify: the same as an EOF to the layers above.
                if sawEOF { return .eof }
                throw IOError(errno: 71, function: "SSL_read")
            case .wantRead, .wantWrite:
                tlsMayHaveInput = false
                guard flushCiphertext() else { throw IOError(errno: 32, function: "send") }
                if sawEOF { return .eof }
                switch try channel.read(into: buffer) {
                case .wouldBlock: return .wouldBlock
                case .eof:
                    sawEOF = true
                    tls.feedEndOfInput()
                case .bytes(let k):
                    tls.feed(ciphertext: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<k]))
                }
            }
        }
    }

    /// Drives the TLS handshake with what the socket has; `buffer` is scratch space for ciphertext.
    public func continueHandshake(buffer: UnsafeMutableRawBufferPointer) -> HandshakeProgress {
        guard let tls else { return .complete }
        while true {
            switch tls.handshake() {
            case .complete:
                tlsMayHaveInput = true
                return flushCiphertext() ? .complete : .failed("send failed")
            case .wantRead, .wantWrite:
                guard flushCiphertext() else { return .failed("send failed") }
                do {
                    switch try channel.read(into: buffer) {
                    case .wouldBlock: return .pending
                    case .eof: return .failed("peer closed during the handshake")
                    case .bytes(let k):
                        tls.feed(ciphertext: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<k]))
                    }
                } catch {
                    return .failed(error.description)
                }
            case .closed:
                _ = flushCiphertext()
                tlsFailed = true
                return .failed("peer closed during the handshake")
            case .failed(let e):
                // The alert goes out so the peer learns why.
                _ = flushCiphertext()
                tlsFailed = true
                return .failed(e.reason)
            }
        }
    }

    public func pauseReading() { channel.pauseReading() }

    public func resumeReading() {
        channel.resumeReading()
        if tls != nil && tlsMayHaveInput { scheduleReadKick() }
    }

    /// Runs `onReadable` soon even without a socket event: bytes already inside OpenSSL must not wait for one.
    public func kickReading() {
        if tls != nil { tlsMayHaveInput = true }
        scheduleReadKick()
    }

    private func scheduleReadKick() {
        guard !readKickScheduled else { return }
        readKickScheduled = true
        let me = UnsafeTransfer(self)
        channel.loop.execute {
            let t = me.value
            t.readKickScheduled = false
            guard !t.channel.isClosed, !t.channel.isReadingPaused else { return }
            t.channel.onReadable?()
        }
    }

    // MARK: writing

    /// Sends plaintext now when the socket keeps up, queues the rest; false when the connection failed.
    @inline(__always)
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let tls else { return out.write(bytes, to: channel) }
        return writeTLS(tls, bytes)
    }

    public func write(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { write($0) } }

    private func writeTLS(_ tls: TLSConnection, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !tlsFailed else { return false }
        var rest = bytes
        while !rest.isEmpty {
            let (result, n) = tls.write(rest)
            guard case .complete = result, n > 0 else {
                tlsFailed = true
                _ = flushCiphertext()
                return false
            }
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
        return flushCiphertext()
    }

    /// Moves ciphertext OpenSSL produced into the socket (or the queue).
    private func flushCiphertext() -> Bool {
        guard let tls, tls.hasPendingCiphertext else { return true }
        cipherScratch.removeAll(keepingCapacity: true)
        tls.drainCiphertext(into: &cipherScratch)
        let ok = out.write(cipherScratch, to: channel)
        if cipherScratch.capacity > 256 * 1024 { cipherScratch = [] }
        return ok
    }

    /// Gathers small writes until `uncork` (one read batch's output leaves in one send).
    public func cork() { out.cork() }

    /// Sends what gathered; false when the socket failed.
    public func uncork() -> Bool { out.uncork(to: channel) }

    /// Writes queued bytes; true when nothing is left. Throws when the socket failed.
    public func flush() throws(IOError) -> Bool { try out.flush(to: channel) }

    /// Half-closes the sending side (TCP only: under TLS, close_notify is sent at `close`).
    public func shutdownWrite() {
        if tls == nil { channel.shutdownWrite() }
    }

    /// Sends close_notify (TLS, best effort) and closes; queued bytes are dropped.
    public func close() {
        guard !channel.isClosed else { return }
        if let tls, !tlsFailed, tls.isHandshakeComplete, out.isEmpty {
            tls.shutdown()
            _ = flushCiphertext()
        }
        out.clear()
        channel.close()
    }
}
