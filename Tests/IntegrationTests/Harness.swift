import Foundation
import GatewayConfig
import GatewayCore
import GatewayLoop
import GatewayProxy
#if canImport(Glibc)
import Glibc
#endif

/// Collects access-log lines written by an in-process gateway.
final class CollectingLogWriter: AccessLogWriter {
    private let lines = Locked<[String]>([])

    func writeLines(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        lines.withLock { $0.append(contentsOf: text.split(separator: "\n").map(String.init)) }
    }

    var all: [String] { lines.withLock { $0 } }
}

/// An in-process echo backend and gateway bound to 127.0.0.1:0, torn down with `stop()`.
final class TestStack: @unchecked Sendable {
    static let secret = "integration-secret"
    static let clientId = "test-client-id"

    let echo: GatewayServer
    let gateway: GatewayServer
    let log = CollectingLogWriter()
    var config: GatewayConfig
    let clock: any Clock

    var port: Int { gateway.listenerAddresses[0].port }
    var adminPort: Int? { gateway.adminAddress?.port }
    var echoPort: Int { echo.listenerAddresses[0].port }

    /// `configure` edits the default test config; upstream `app` already points at the echo backend.
    init(clock: any Clock = SystemClock(), upstreamServers: [String]? = nil, loops: Int = 2,
         answers: ResolveIntervalTests.Answers? = nil, configure: (inout GatewayConfig) -> Void = { _ in }) throws {
        self.clock = clock
        var echoConfig = GatewayConfig()
        echoConfig.listeners = [ListenerConfig(address: "127.0.0.1:0")]
        echoConfig.admin = nil
        echo = try GatewayServer(config: echoConfig, kind: .echo, loopCount: 1)
        try echo.start()
        var c = GatewayConfig()
        c.listeners = [ListenerConfig(address: "127.0.0.1:0")]
        c.admin = AdminConfig(address: "127.0.0.1:0")
        c.apps = [AppConfig(clientId: Self.clientId, secrets: [Secret(source: .value, bytes: Array(Self.secret.utf8))])]
        var up = UpstreamConfig(name: "app", servers: upstreamServers ?? ["127.0.0.1:\(echo.listenerAddresses[0].port)"])
        up.connectTimeout = .seconds(1)
        up.responseTimeout = .seconds(2)
        c.upstreams = [up]
        c.routes = [RouteConfig(pathPrefix: "/healthz", upstream: "app", auth: .none),
                    RouteConfig(pathPrefix: "/public", upstream: "app", auth: .none),
                    RouteConfig(pathPrefix: "/optional", upstream: "app", auth: .optional),
                    RouteConfig(pathPrefix: "/", upstream: "app", auth: .required)]
        c.limits.headerTimeout = .seconds(1)
        configure(&c)
        config = c
        gateway = try GatewayServer(config: c, loopCount: loops, clock: clock, accessLogWriter: log,
                                    resolver: answers?.resolver ?? SocketAddress.systemResolver)
        try gateway.start()
    }

    func stop() {
        let done = DispatchSemaphore(value: 0)
        gateway.drain(timeout: .milliseconds(200)) { done.signal() }
        done.wait()
        let done2 = DispatchSemaphore(value: 0)
        echo.drain(timeout: .milliseconds(100)) { done2.signal() }
        done2.wait()
    }
}

/// A blocking TCP client for raw HTTP bytes.
/// A TCP socket connected to `host`:`port` (IPv4); `receiveBuffer` sets SO_RCVBUF before connecting (a small one
/// makes a slow reader push back sooner). Closed again when the connect fails.
func connectedTCPSocket(port: Int, host: String = "127.0.0.1", receiveBuffer: Int32? = nil) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    if var size = receiveBuffer {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(port).bigEndian
    inet_pton(AF_INET, host, &addr.sin_addr)
    let r = withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if r != 0 {
        let e = errno
        Glibc.close(fd)
        throw IOError(errno: e, function: "connect")
    }
    return fd
}

final class RawClient {
    let fd: Int32

    /// `receiveBuffer` sets SO_RCVBUF before connecting (a small one makes a slow reader push back sooner).
    init(port: Int, host: String = "127.0.0.1", receiveBuffer: Int32? = nil) throws {
        fd = try connectedTCPSocket(port: port, host: host, receiveBuffer: receiveBuffer)
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until the peer closes or `timeout` seconds pass without data.
    func readAll(timeout: Int = 5) -> [UInt8] {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    /// Reads until `count` bytes arrived (bytes left over by `readResponse` first), the peer closed, or the receive
    /// timeout passed.
    func read(count: Int) -> [UInt8] {
        var out = Array(pending.prefix(count))
        pending.removeFirst(out.count)
        var buf = [UInt8](repeating: 0, count: 65536)
        while out.count < count {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - out.count), 0) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    /// Reads exactly one HTTP/1.1 response (Content-Length or chunked or close-delimited).
    func readResponse(timeout: Int = 5) -> HTTPTestResponse? {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        while true {
            if let (resp, used) = HTTPTestResponse.parse(pending) {
                pending.removeFirst(used)
                return resp
            }
            var buf = [UInt8](repeating: 0, count: 65536)
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

    /// True when the server closed the connection (EOF within `timeout`).
    func isClosedByPeer(timeout: Int = 3) -> Bool {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var b: UInt8 = 0
        let n = recv(fd, &b, 1, 0)
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }

    private var pending: [UInt8] = []
}

/// A parsed response as the tests see it.
struct HTTPTestResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    func headers(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1) }
    var bodyText: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    /// The echo backend's view of the forwarded request headers.
    var echoedHeaders: [String: String] { (json?["headers"] as? [String: String]) ?? [:] }

    static func parse(_ b: [UInt8], eof: Bool = false) -> (HTTPTestResponse, Int)? {
        guard let end = find(b, [13, 10, 13, 10]) else { return nil }
        let head = String(decoding: b[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        var headers: [(String, String)] = []
        for l in lines {
            guard let c = l.firstIndex(of: ":") else { continue }
            headers.append((String(l[..<c]), l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)))
        }
        var r = HTTPTestResponse(status: status, headers: headers, body: [])
        let bodyStart = end + 4
        if status / 100 == 1 && status != 101 { return (r, bodyStart) }
        if status == 204 || status == 304 || status == 101 { return (r, bodyStart) }
        if let cl = r.header("Content-Length"), let n = Int(cl) {
            guard b.count >= bodyStart + n else { return nil }
            r.body = Array(b[bodyStart..<bodyStart + n])
            return (r, bodyStart + n)
        }
        if r.header("Transfer-Encoding")?.lowercased() == "chunked" {
            var i = bodyStart
            var body: [UInt8] = []
            while true {
                guard let le = find(Array(b[i...]), [13, 10]) else { return nil }
                let sizeText = String(decoding: b[i..<i + le], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText, radix: 16) else { return nil }
                i += le + 2
                if size == 0 {
                    guard let te = find(Array(b[i...]), [13, 10, 13, 10]) ?? (b.count >= i + 2 && b[i] == 13 && b[i + 1] == 10 ? -2 : nil) else { return nil }
                    i += te == -2 ? 2 : te + 4
                    r.body = body
                    return (r, i)
                }
                guard b.count >= i + size + 2 else { return nil }
                body.append(contentsOf: b[i..<i + size])
                i += size + 2
            }
        }
        guard eof else { return nil }
        r.body = Array(b[bodyStart...])
        return (r, b.count)
    }

    static func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
            if Array(hay[i..<i + needle.count]) == needle { return i }
        }
        return nil
    }
}

/// Mints HS256 tokens for tests with the same claims an extension would carry.
enum TestTokens {
    static func b64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Runs a program and returns its exit status and output.
///
/// Both pipes are drained at once: read one after the other, a child that fills its stderr pipe (64 KiB: a
/// sanitizer's reports, say) while the caller still waits for the end of its stdout never finishes. A child still
/// running after `deadline` seconds is killed and the call throws, so a stalled exchange fails its test instead of
/// hanging the run; the deadline is generous (sanitizer builds run the gateway 5-15 times slower), not a timing
/// assertion.
@discardableResult
func runProcess(_ path: String, _ args: [String], environment: [String: String]? = nil, stdin: String? = nil,
                deadline: Double = 600) throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let inPipe = Pipe()
    p.standardInput = inPipe
    try p.run()
    let errBytes = Locked(Data())
    let errDone = DispatchSemaphore(value: 0)
    let errHandle = err.fileHandleForReading
    Thread.detachNewThread {
        let d = errHandle.readDataToEndOfFile()
        errBytes.withLock { $0 = d }
        errDone.signal()
    }
    // Killed under the lock that `finished` is set under, so a pid reused after the child was reaped is never hit.
    let state = Locked((finished: false, killed: false))
    let pid = p.processIdentifier
    DispatchQueue.global().asyncAfter(deadline: .now() + deadline) {
        state.withLock { s in
            guard !s.finished else { return }
            s.killed = true
            kill(pid, SIGKILL)
        }
    }
    if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? inPipe.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    errDone.wait()
    let e = errBytes.withLock { $0 }
    p.waitUntilExit()
    let killed = state.withLock { s in
        s.finished = true
        return s.killed
    }
    if killed {
        throw TestFailure("\(path) \(args.joined(separator: " ")) was still running after \(Int(deadline)) s and was killed; "
                          + "stdout: \(String(decoding: o.suffix(2_000), as: UTF8.self)) stderr: \(String(decoding: e.suffix(2_000), as: UTF8.self))")
    }
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// Finds a system tool, failing the test with a clear message when it is missing (make test installs it).
func tool(_ name: String) -> String {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
        return "\(dir)/\(name)"
    }
    return "/usr/bin/\(name)"
}

/// The `session-gateway` executable of the build this test binary belongs to: `SESSION_GATEWAY_BINARY` when set,
/// else the one in the test runner's own bin directory. SwiftPM puts the runner (`…PackageTests.xctest`) beside the
/// products, whatever `--scratch-path`, configuration or sanitizer the build used, so a sanitizer build in
/// `.build-tsan` tests its own binary and never a stale `.build/debug` one.
func gatewayBinary() -> String {
    if let path = ProcessInfo.processInfo.environment["SESSION_GATEWAY_BINARY"], !path.isEmpty { return path }
    // The running executable: `Bundle.main` names its directory on Linux, and /proc/self/exe its file.
    var candidates: [URL] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
    }
    if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
    candidates.append(Bundle.main.bundleURL)
    for dir in candidates {
        let candidate = dir.appendingPathComponent("session-gateway").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    // Not found: the path the first candidate would have, so the failure names where the binary was expected.
    return (candidates.first ?? Bundle.main.bundleURL).appendingPathComponent("session-gateway").path
}
