import Foundation
import GatewayCore
#if canImport(Glibc)
import Glibc
#endif

/// A blocking client over IPv6 loopback (`[::1]:port`) for raw HTTP/1.1 bytes; `RawClient` speaks IPv4 only.
final class IPv6Client {
    let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw IOError(errno: errno, function: "socket") }
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        addr.sin6_port = UInt16(port).bigEndian
        addr.sin6_addr = in6addr_loopback
        let r = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        if r != 0 {
            let e = errno
            Glibc.close(fd)
            throw IOError(errno: e, function: "connect [::1]:\(port)")
        }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Reads one response (receive timeout 5 s per read, so a hang becomes nil, not a stuck test).
    func readResponse() -> HTTPTestResponse? {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            if let (resp, used) = HTTPTestResponse.parse(pending) {
                pending.removeFirst(used)
                return resp
            }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 {
                if let (resp, used) = HTTPTestResponse.parse(pending, eof: true) {
                    pending.removeFirst(used)
                    return resp
                }
                return nil
            }
            pending.append(contentsOf: buf[0..<n])
        }
    }
}
