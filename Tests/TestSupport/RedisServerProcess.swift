import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` started by a test on a free loopback port, with persistence off; shared by the replay-store
/// unit tests and the integration tests.
public final class RedisServerProcess {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let port: Int
    private var process: Process?
    /// Extra `redis-server` options (`--requirepass`, ...), kept for every restart.
    private let arguments: [String]

    /// Starts a server on `port` (a fresh free port when nil) with extra `arguments` and waits until it answers PING.
    public init(port: Int? = nil, arguments: [String] = []) throws {
        self.port = try port ?? Self.freePort()
        self.arguments = arguments
        try start()
    }

    deinit { stop() }

    /// The `replay.redis.url` of this server, database 0.
    public var url: String { "redis://127.0.0.1:\(port)/0" }

    public func start() throws {
        guard process == nil else { return }
        let executable = try Self.locateServer()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                       "--daemonize", "no", "--loglevel", "warning"] + arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        // Waiting for the server to come up, not a timing assertion: a generous limit only turns a hang into a failure.
        for _ in 0..<400 {
            if Self.answersPing(port: port) { return }
            guard p.isRunning else { break }
            usleep(25_000)
        }
        stop()
        throw Failure(description: "redis-server on port \(port) did not answer PING")
    }

    public func stop() {
        guard let p = process else { return }
        process = nil
        // SIGKILL, not terminate(): the child inherits the test thread's signal mask, where SIGTERM may be blocked.
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
    }

    public static func locateServer() throws -> String {
        var candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server"]
        if let path = ProcessInfo.processInfo.environment["PATH"] {
            candidates += path.split(separator: ":").map { "\($0)/redis-server" }
        }
        if let found = candidates.first(where: { access($0, X_OK) == 0 }) { return found }
        throw Failure(description: "redis-server is not installed: these tests need a real Redis "
            + "(apt-get install -y redis-server; `make` installs it)")
    }

    /// Binds 127.0.0.1:0 to learn a port the kernel considers free, then releases it.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var addr = loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard bound else { throw Failure(description: "bind(127.0.0.1:0) failed: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    public static func loopback(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return addr
    }

    /// One raw `PING` over a new connection (independent of the code under test).
    public static func answersPing(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = loopback(port: port)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return false }
        let ping = Array("PING\r\n".utf8)
        guard send(fd, ping, ping.count, Int32(MSG_NOSIGNAL)) == ping.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = recv(fd, &buffer, buffer.count, 0)
        // A server with `requirepass` answers NOAUTH: it is up all the same.
        return (n >= 5 && buffer[0..<5] == ArraySlice("+PONG".utf8)) || (n >= 7 && buffer[0..<7] == ArraySlice("-NOAUTH".utf8))
    }

    /// Runs `redis-cli` against this server (`-a`/`--user` to log in, `-n` for the database) and returns its output,
    /// trimmed; for checking what the gateway stored on a server that requires a login.
    public func cli(_ args: [String], user: String? = nil, password: String? = nil, database: Int = 0) -> String {
        let p = Process()
        // redis-cli ships next to redis-server.
        guard let server = try? Self.locateServer() else { return "" }
        p.executableURL = URL(fileURLWithPath: server).deletingLastPathComponent().appendingPathComponent("redis-cli")
        var login: [String] = []
        if let user { login += ["--user", user] }
        if let password { login += ["--pass", password, "--no-auth-warning"] }
        p.arguments = ["-h", "127.0.0.1", "-p", String(port), "-n", String(database)] + login + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return "" }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
    /// Sends one inline command and returns the raw reply (for checking what the gateway stored).
    public func command(_ line: String) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = Self.loopback(port: port)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return "" }
        let bytes = Array((line + "\r\n").utf8)
        _ = send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }
}

/// A listening socket that never accepts or answers: connections succeed, commands time out.
public final class SilentListener {
    public let port: Int
    private let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisServerProcess.Failure(description: "socket() failed") }
        var addr = RedisServerProcess.loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                bind(fd, p, len) == 0 && listen(fd, 16) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard ok else {
            close(fd)
            throw RedisServerProcess.Failure(description: "could not listen on 127.0.0.1:0")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }
}
