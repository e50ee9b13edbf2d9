import GatewayCore
import GatewayLoop

/// Bytes waiting for a socket: written straight through when the socket keeps up, queued when it does not.
struct OutboundBuffer {
    private(set) var pending = ByteBuffer()

    var isEmpty: Bool { pending.isEmpty }
    var count: Int { pending.readableBytes }

    /// Sends `bytes` now if nothing is queued, queueing whatever the socket did not take. False when the socket failed.
    mutating func write(_ bytes: UnsafeRawBufferPointer, to channel: SocketChannel) -> Bool {
        guard pending.isEmpty else {
            pending.write(bytes)
            return true
        }
        var offset = 0
        while offset < bytes.count {
            do {
                switch try channel.write(UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
                case .processed(let n): offset += n
                case .wouldBlock:
                    pending.write(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                    channel.waitForWritable()
                    return true
                }
            } catch {
                return false
            }
        }
        return true
    }

    mutating func write(_ bytes: [UInt8], to channel: SocketChannel) -> Bool {
        bytes.withUnsafeBytes { write($0, to: channel) }
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
                throw IOError(errno: 5, function: "send")
            }
            switch r {
            case .processed(let n): pending.consume(n)
            case .wouldBlock:
                channel.waitForWritable()
                return false
            }
        }
        channel.stopWaitingForWritable()
        return true
    }

    mutating func clear() { pending.clear() }
}
