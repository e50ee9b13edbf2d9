import Dispatch
import GatewayCore
import GatewayLoop
#if canImport(Glibc)
import Glibc
#endif

/// Counts events from any thread and lets a test wait for them without a timed assertion.
final class EventCounter: Sendable {
    private let count = Locked(0)
    private let semaphore = DispatchSemaphore(value: 0)

    var value: Int { count.withLock { $0 } }

    func record() {
        count.withLock { $0 += 1 }
        semaphore.signal()
    }

    /// Waits for one more event; the limit only turns a hang into a failure.
    @discardableResult
    func wait(seconds: Double = 5) -> Bool {
        semaphore.wait(timeout: .now() + seconds) == .success
    }

    /// For "never happens" checks: waits the full `seconds`, then tells whether `value` is still `expected`.
    func stays(at expected: Int, seconds: Double) -> Bool {
        let deadline = DispatchTime.now() + seconds
        while semaphore.wait(timeout: deadline) == .success {}
        return value == expected
    }

    /// Waits until `value` reaches `target` (generous limit).
    @discardableResult
    func wait(until target: Int, seconds: Double = 5) -> Bool {
        let deadline = DispatchTime.now() + seconds
        while value < target {
            if semaphore.wait(timeout: deadline) == .timedOut { return value >= target }
        }
        return true
    }
}

/// A thread-safe list of values recorded by callbacks.
final class Recorder<T: Sendable>: Sendable {
    private let items = Locked<[T]>([])
    func append(_ item: T) { items.withLock { $0.append(item) } }
    var all: [T] { items.withLock { $0 } }
}

/// Raw blocking socket helpers, independent of the code under test.
enum RawSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A connected pair of TCP sockets on 127.0.0.1: `peer` stays blocking (the test drives it), `local` is
    /// non-blocking and moved to a descriptor number at or above `fdFloor`, so a check that it was closed cannot
    /// be fooled by another test reusing a low descriptor number.
    static func tcpPair(fdFloor: Int32) throws -> (peer: Int32, local: Int32) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(listener) }
        var addr = loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(listener, p, len) == 0 && listen(listener, 4) == 0 && getsockname(listener, p, &len) == 0
            }
        }
        guard listening else { throw Failure(description: "bind/listen: errno \(errno)") }
        let peer = try connectBlocking(port: Int(UInt16(bigEndian: addr.sin_port)))
        let accepted = accept(listener, nil, nil)
        guard accepted >= 0 else { throw Failure(description: "accept: errno \(errno)") }
        let local = fcntl(accepted, F_DUPFD_CLOEXEC, fdFloor)
        close(accepted)
        guard local >= 0 else { throw Failure(description: "F_DUPFD: errno \(errno)") }
        _ = fcntl(local, F_SETFL, fcntl(local, F_GETFL) | O_NONBLOCK)
        setReceiveTimeout(peer, seconds: 5)
        return (peer, local)
    }

    static func loopback(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return addr
    }

    static func connectBlocking(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var addr = loopback(port: port)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else {
            let e = errno
            close(fd)
            throw Failure(description: "connect 127.0.0.1:\(port): errno \(e)")
        }
        setReceiveTimeout(fd, seconds: 5)
        return fd
    }

    static func connectBlocking6(port: Int) throws -> Int32 {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket6: errno \(errno)") }
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        addr.sin6_port = UInt16(port).bigEndian
        addr.sin6_addr = in6addr_loopback
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
        guard ok else {
            let e = errno
            close(fd)
            throw Failure(description: "connect [::1]:\(port): errno \(e)")
        }
        setReceiveTimeout(fd, seconds: 5)
        return fd
    }

    /// The local port of a socket.
    static func localPort(_ fd: Int32) -> Int {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return withUnsafeBytes(of: &ss) { raw in
            Int(Int32(raw.load(as: sockaddr.self).sa_family) == AF_INET6
                ? UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
                : UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
        }
    }

    static func setReceiveTimeout(_ fd: Int32, seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until `count` bytes arrived, EOF, or the receive timeout.
    static func receive(_ fd: Int32, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while out.count < count {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - out.count), 0) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    /// True when the peer closed: recv returns 0 (or ECONNRESET) before the receive timeout.
    static func seesEOF(_ fd: Int32) -> Bool {
        var b: UInt8 = 0
        let n = recv(fd, &b, 1, 0)
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }

    /// True when `fd` is not an open descriptor of this process.
    static func isClosed(_ fd: Int32) -> Bool {
        fcntl(fd, F_GETFD) == -1 && errno == EBADF
    }
}
