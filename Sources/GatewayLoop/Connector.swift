#if canImport(Glibc)
import Glibc
#endif
import GatewayCore

/// Opens outgoing TCP connections without blocking the loop.
public enum Connector {
    /// Starts connecting to `address` on `loop`; `completion` runs on the loop with the channel or the error.
    public static func connect(to address: SocketAddress, loop: EventLoop,
                               completion: @escaping (Result<SocketChannel, IOError>) -> Void) {
        loop.assertInLoop()
        let fd: Int32
        do { fd = try Socket.makeTCP(family: address.family) } catch {
            completion(.failure(error))
            return
        }
        Socket.setNoDelay(fd)
        let channel = SocketChannel(fd: fd, loop: loop)
        let connected: Bool
        do { connected = try Socket.connect(fd, to: address) } catch {
            channel.close()
            completion(.failure(error))
            return
        }
        if connected {
            completion(.success(channel))
            return
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
    }
}
