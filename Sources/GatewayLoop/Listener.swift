#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import GatewayCore

/// A listening socket whose accepted connections are handed out to the group's loops, round robin.
public final class Listener: @unchecked Sendable {
    public let address: SocketAddress
    private let fd: Int32
    private let source: DispatchSourceRead
    private let group: EventLoopGroup
    private var stopped = false
    private var started = false
    private let acceptQueue: DispatchQueue

    /// Called on the chosen loop with the accepted descriptor and the client address.
    public typealias AcceptHandler = @Sendable (_ fd: Int32, _ peer: SocketAddress, _ loop: EventLoop) -> Void

    /// Binds `address` now (so the port is known, including for `:0`); accepting starts with `start`.
    public init(address: SocketAddress, group: EventLoopGroup, backlog: Int32 = 1024) throws(IOError) {
        fd = try Socket.listen(on: address, backlog: backlog)
        self.address = try Socket.localAddress(fd)
        self.group = group
        acceptQueue = group.loops[0].queue
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
    }

    public var port: Int { address.port }

    deinit {
        // A Dispatch source that was never resumed traps when released ("Release of an inactive object"):
        // a listener bound but never started (a later bind failed) must still be activated to be cancelled.
        if !started {
            let fd = self.fd
            source.setCancelHandler { Glibc.close(fd) }
            source.cancel()
            source.resume()
        }
    }

    public func start(onAccept: @escaping AcceptHandler) {
        started = true
        let fd = self.fd
        let group = self.group
        source.setEventHandler {
            while true {
                let r: IOResult<(Int32, SocketAddress)>
                do { r = try Socket.accept(fd) } catch {
                    // EMFILE and friends: stop this round; the source fires again later.
                    return
                }
                guard case .processed(let (cfd, peer)) = r else { return }
                Socket.setNoDelay(cfd)
                let loop = group.next()
                if loop.inLoop {
                    onAccept(cfd, peer, loop)
                } else {
                    loop.execute { onAccept(cfd, peer, loop) }
                }
            }
        }
        source.setCancelHandler { Glibc.close(fd) }
        source.resume()
    }

    /// Stops accepting and closes the listening socket.
    public func stop() {
        acceptQueue.async { [self] in
            guard !stopped else { return }
            stopped = true
            source.cancel()
        }
    }
}
