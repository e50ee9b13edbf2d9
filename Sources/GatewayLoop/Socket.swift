#if canImport(Glibc)
import Glibc
#endif
import GatewayCore

/// Non-blocking socket operations on a raw descriptor; ownership of the descriptor lives in `SocketChannel` or `Listener`.
public enum Socket {
    /// A new non-blocking, close-on-exec stream socket: TCP for AF_INET/AF_INET6, a Unix stream socket for AF_UNIX.
    public static func makeTCP(family: Int32) throws(IOError) -> Int32 {
        var fd: Int32 = -1
        try Syscall.blocking("socket") {
            fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            return fd
        }
        return fd
    }

    public static func setOption(_ fd: Int32, level: Int32, name: Int32, value: Int32) throws(IOError) {
        var v = value
        try Syscall.blocking("setsockopt") { setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) }
    }

    public static func setNoDelay(_ fd: Int32) {
        try? setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
    }

    /// Binds and listens; returns the descriptor.
    public static func listen(on address: SocketAddress, backlog: Int32 = 1024) throws(IOError) -> Int32 {
        let fd = try makeTCP(family: address.family)
        do {
            try setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
            if address.family == AF_INET6 { try setOption(fd, level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: 1) }
            try Syscall.blocking("bind") { address.withSockaddr { bind(fd, $0, $1) } }
            try Syscall.blocking("listen") { Glibc.listen(fd, backlog) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// Accepts one connection: the new non-blocking descriptor and the peer address, or `.wouldBlock`.
    public static func accept(_ fd: Int32) throws(IOError) -> IOResult<(Int32, SocketAddress)> {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let r = try Syscall.call("accept4") {
            withUnsafeMutablePointer(to: &ss) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Int(Glibc.accept(fd, $0, &len))
                }
            }
        }
        switch r {
        case .wouldBlock: return .wouldBlock
        case .processed(let n):
            let cfd = Int32(n)
            // accept4 is not visible without _GNU_SOURCE; set the flags explicitly.
            _ = fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(cfd, F_SETFD, FD_CLOEXEC)
            return .processed((cfd, SocketAddress(storage: ss, length: len)))
        }
    }

    /// Starts a non-blocking connect; true when already connected, false when in progress.
    public static func connect(_ fd: Int32, to address: SocketAddress) throws(IOError) -> Bool {
        while true {
            let r = address.withSockaddr { Glibc.connect(fd, $0, $1) }
            if r == 0 { return true }
            switch errno {
            case EINTR: continue
            case EINPROGRESS: return false
            // A Unix socket whose backlog is full refuses at once rather than going in progress.
            case EAGAIN: throw IOError(errno: errno, function: "connect")
            default: throw IOError(errno: errno, function: "connect")
            }
        }
    }

    /// The pending error of a socket (`SO_ERROR`), 0 when none.
    public static func pendingError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 { return errno }
        return err
    }

    public static func localAddress(_ fd: Int32) throws(IOError) -> SocketAddress {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        try Syscall.blocking("getsockname") {
            withUnsafeMutablePointer(to: &ss) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        }
        return SocketAddress(storage: ss, length: len)
    }
}
