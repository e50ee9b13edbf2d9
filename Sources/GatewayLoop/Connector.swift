#if canImport(Glibc)
import Glibc
#endif
import GatewayCore

/// Opens outgoing TCP and Unix-socket connections without blocking the loop.
public enum Connector {
    /// Starts connecting to `address` on `loop`; `completion` runs on the loop with the channel or the error.
    /// Returns the socket while the connect is still pending (nil when `completion` already ran): closing it after
    /// clearing its `onWritable` cancels the connect, and `completion` then never runs.
    @discardableResult
    public static func connect(to address: SocketAddress, loop: EventLoop,
                               completion: @escaping (Result<SocketChannel, IOError>) -> Void) -> SocketChannel? {
        loop.assertInLoop()
        let fd: Int32
        do { fd = try Socket.makeTCP(family: address.family) } catch {
            completion(.failure(error))
            return nil
        }
        if !address.isUnix { Socket.setNoDelay(fd) }
        let channel = SocketChannel(fd: fd, loop: loop)
        let connected: Bool
        do { connected = try Socket.connect(fd, to: address) } catch {
            channel.close()
            completion(.failure(error))
            return nil
        }
        if connected {
            completion(.success(channel))
            return nil
        }
        // The callback holds the channel until the connect resolves (nothing else does yet).
        channel.onWritable = {
            channel.stopWaitingForWritable()
            channel.onWritable = nil
            let err = Socket.pendingError(fd)
            if err == 0 {
                completion(.success(channel))
            } else {
                channel.close()
                completion(.failure(IOError(errno: err, function: "connect")))
            }
        }
        channel.waitForWritable()
        return channel
    }
}
