#if canImport(Glibc)
import Glibc
#endif
import GatewayCore
import GatewayLoop

/// Bytes waiting for a socket: written straight through when the socket keeps up, queued when it does not.
///
/// While corked (one read's worth of events being turned into output), small writes gather and leave in one
/// `sendmsg` at `uncork`; a large write goes out at once together with what gathered before it.
struct OutboundBuffer {
    private(set) var pending = ByteBuffer()
    /// The socket refused bytes; the write source is armed until it drains.
    private(set) var blocked = false
    private var corked = false
    private static let corkLimit = 16 * 1024

    var isEmpty: Bool { pending.isEmpty }
    var count: Int { pending.readableBytes }
    /// Whether the peer is not keeping up (callers pause their source of bytes).
    var isBlocked: Bool { blocked }

    mutating func cork() { corked = true }

    /// Ends a cork: sends what gathered. False when the socket failed.
    mutating func uncork(to channel: SocketChannel) -> Bool {
        corked = false
        guard !blocked, !pending.isEmpty else { return true }
        do {
            _ = try flush(to: channel)
            return true
        } catch {
            return false
        }
    }

    /// Sends or queues `bytes`. False when the socket failed.
    mutating func write(_ bytes: UnsafeRawBufferPointer, to channel: SocketChannel) -> Bool {
        if bytes.isEmpty { return true }
        if blocked || (corked && pending.readableBytes + bytes.count <= Self.corkLimit) {
            pending.write(bytes)
            return true
        }
        var offset = 0
        do {
            if !pending.isEmpty {
                // What gathered and the new bytes leave together.
                let sent = try pending.withReadableBytes { head -> Int in
                    var iov = (iovec(iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress), iov_len: head.count),
                               iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count))
                    return try withUnsafeBytes(of: &iov) { raw in
                        let p = raw.bindMemory(to: iovec.self)
                        switch try channel.writev(p) {
                        case .processed(let n): return n
                        case .wouldBlock: return 0
                        }
                    }
                }
                let fromPending = min(sent, pending.readableBytes)
                pending.consume(fromPending)
                offset = sent - fromPending
                if !pending.isEmpty {
                    pending.write(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                    block(channel)
                    return true
                }
            }
            while offset < bytes.count {
                switch try channel.write(UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
                case .processed(let n): offset += n
                case .wouldBlock:
                    pending.write(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                    block(channel)
                    return true
                }
            }
        } catch {
            return false
        }
        return true
    }

    mutating func write(_ bytes: [UInt8], to channel: SocketChannel) -> Bool {
        bytes.withUnsafeBytes { write($0, to: channel) }
    }

    private mutating func block(_ channel: SocketChannel) {
        blocked = true
        channel.waitForWritable()
    }

    /// Writes queued bytes; true when the queue is now empty. Throws when the socket failed.
    mutating func flush(to channel: SocketChannel) throws(IOError) -> Bool {
        while !pending.isEmpty {
            let r: IOResult<Int>
            do {
                r = try pending.withReadableBytes { try channel.write($0) }
            } catch let e as IOError {
                throw e
            } catch {
                throw IOError(errno: EIO, function: "send")
            }
            switch r {
            case .processed(let n): pending.consume(n)
            case .wouldBlock:
                block(channel)
                return false
            }
        }
        if blocked {
            blocked = false
            channel.stopWaitingForWritable()
        }
        return true
    }

    mutating func clear() {
        pending.clear()
        blocked = false
    }
}
