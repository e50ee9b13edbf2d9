import Foundation
import GatewayCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A tiny blocking TCP server on 127.0.0.1:0 with one thread per connection, for upstreams that misbehave on purpose.
final class RawUpstream: @unchecked Sendable {
    let port: Int
    private let listenFD: Int32
    private let stopped = Atomic<Bool>(false)
    private let accepted = Atomic<Int>(0)
    private let requestCount = Atomic<Int>(0)
    private let completeCount = Atomic<Int>(0)
    private let heads = Locked<[String]>([])
    private let open = Locked<[Int32]>([])

    /// Connections accepted so far.
    var connections: Int { accepted.load(ordering: .relaxed) }
    /// Request heads the handler recorded (via `RawConn.readHead`).
    var requests: Int { requestCount.load(ordering: .relaxed) }
    var receivedHeads: [String] { heads.withLock { $0 } }
    /// Requests read to the end of their body (by `RawConn.readRequest`).
    var completeRequests: Int { completeCount.load(ordering: .relaxed) }

    /// Listens on `host:port` (IPv4; port 0 picks one; the whole 127/8 is loopback on Linux).
    init(host: String = "127.0.0.1", port: Int = 0, handler: @escaping @Sendable (RawConn) -> Void) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, host, &addr.sin_addr)
        let r = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if r != 0 || listen(fd, 64) != 0 {
            Glibc.close(fd)
            throw IOError(errno: errno, function: "bind/listen")
        }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listenFD = fd
        self.port = Int(UInt16(bigEndian: bound.sin_port))
        let thread = Thread { [self] in acceptLoop(handler) }
        thread.start()
    }

    /// The same server on a Unix domain socket at `unixPath` (replaced if it exists); `port` is 0.
    init(unixPath: String, handler: @escaping @Sendable (RawConn) -> Void) throws {
        unlink(unixPath)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(unixPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            Glibc.close(fd)
            throw TestFailure("unix path too long: \(unixPath)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in for (i, b) in bytes.enumerated() { dst[i] = b } }
        let r = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if r != 0 || listen(fd, 64) != 0 {
            Glibc.close(fd)
            throw IOError(errno: errno, function: "bind/listen")
        }
        listenFD = fd
        port = 0
        let thread = Thread { [self] in acceptLoop(handler) }
        thread.start()
    }

    private func acceptLoop(_ handler: @escaping @Sendable (RawConn) -> Void) {
        // The listening socket is closed here, by the only thread that polls it, so it is never closed twice.
        defer { Glibc.close(listenFD) }
        while !stopped.load(ordering: .relaxed) {
            var pfd = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 50) <= 0 { continue }
            let c = accept(listenFD, nil, nil)
            if c < 0 { continue }
            accepted.wrappingAdd(1, ordering: .relaxed)
            let conn = RawConn(fd: c, owner: self)
            open.withLock { $0.append(c) }
            let t = Thread {
                handler(conn)
                conn.close()
            }
            t.start()
        }
    }

    /// Closes a connection's fd under the lock, so `stop` never shuts down an fd number reused elsewhere.
    fileprivate func closeConnection(_ fd: Int32) {
        open.withLock { list in
            if let i = list.firstIndex(of: fd) {
                list.remove(at: i)
                Glibc.close(fd)
            }
        }
    }

    fileprivate func recordComplete() { completeCount.wrappingAdd(1, ordering: .relaxed) }

    fileprivate func recordHead(_ head: String) {
        requestCount.wrappingAdd(1, ordering: .relaxed)
        heads.withLock { $0.append(head) }
    }

    /// Stops accepting and shuts every connection down (their handler threads then see EOF).
    func stop() {
        stopped.store(true, ordering: .relaxed)
        open.withLock { list in for fd in list { Glibc.shutdown(fd, Int32(SHUT_RDWR)) } }
    }
}

/// One accepted upstream connection, used from its own thread.
final class RawConn: @unchecked Sendable {
    let fd: Int32
    private let owner: RawUpstream
    private var pending: [UInt8] = []
    private let closed = Atomic<Bool>(false)

    fileprivate init(fd: Int32, owner: RawUpstream) {
        self.fd = fd
        self.owner = owner
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Reads until a blank line; nil at EOF. Records the head on the owning upstream.
    func readHead() -> String? {
        while true {
            if let end = HTTPTestResponse.find(pending, [13, 10, 13, 10]) {
                let head = String(decoding: pending[0..<end], as: UTF8.self)
                pending.removeFirst(end + 4)
                owner.recordHead(head)
                return head
            }
            guard fill() else { return nil }
        }
    }

    /// Reads exactly `n` bytes (fewer at EOF).
    func read(count n: Int) -> [UInt8] {
        while pending.count < n { if !fill() { break } }
        let k = min(n, pending.count)
        let out = Array(pending[0..<k])
        pending.removeFirst(k)
        return out
    }

    /// Whatever arrives next (buffered first); empty at EOF.
    func readSome() -> [UInt8] {
        if pending.isEmpty { _ = fill() }
        let out = pending
        pending = []
        return out
    }

    /// Reads a request head and its Content-Length or chunked body; returns the head and body.
    func readRequest() -> (head: String, body: [UInt8])? {
        guard let r = readRequestBody() else { return nil }
        owner.recordComplete()
        return r
    }

    private func readRequestBody() -> (head: String, body: [UInt8])? {
        guard let head = readHead() else { return nil }
        let lower = head.lowercased()
        if let line = lower.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
           let n = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
            let body = read(count: n)
            return body.count == n ? (head, body) : nil
        }
        if lower.contains("transfer-encoding: chunked") {
            var body: [UInt8] = []
            while true {
                guard let sizeLine = readLine(), let size = Int(sizeLine.split(separator: ";").first.map(String.init) ?? "", radix: 16)
                else { return nil }
                if size == 0 {
                    while let l = readLine(), !l.isEmpty {}
                    return (head, body)
                }
                body += read(count: size)
                _ = read(count: 2)
            }
        }
        return (head, [])
    }

    private func readLine() -> String? {
        while true {
            if let end = HTTPTestResponse.find(pending, [13, 10]) {
                let line = String(decoding: pending[0..<end], as: UTF8.self)
                pending.removeFirst(end + 2)
                return line
            }
            guard fill() else { return nil }
        }
    }

    /// Blocks until the peer closes (or the read timeout passes).
    func waitForClose() {
        while fill() { pending.removeAll() }
    }

    private func fill() -> Bool {
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        pending.append(contentsOf: buf[0..<n])
        return true
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    func close() {
        if closed.exchange(true, ordering: .relaxed) { return }
        owner.closeConnection(fd)
    }
}

extension RawUpstream {
    /// A keep-alive upstream answering every request `200` with body `ok`.
    static func counting() throws -> RawUpstream {
        try RawUpstream { conn in
            while conn.readRequest() != nil {
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
            }
        }
    }
}
