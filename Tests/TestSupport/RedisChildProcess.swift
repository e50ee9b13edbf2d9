import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One `redis-server` (data node or Sentinel) a topology fixture started, logging to a file for failure messages.
final class RedisChildProcess {
    let port: Int
    let logFile: String
    private var process: Process?

    /// Starts `redis-server arguments...` and waits until `ready()` holds; the log's tail goes into the error if not.
    init(port: Int, arguments: [String], logFile: String, ready: () -> Bool) throws {
        self.port = port
        self.logFile = logFile
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try RedisServerProcess.locateServer())
        // The log file comes last so no config line can send the output elsewhere.
        p.arguments = arguments + ["--logfile", logFile]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        // Waiting for the server to come up, not a timing assertion: the limit only turns a hang into a failure.
        let up = waitUntil(seconds: 10) { ready() || !p.isRunning }
        guard up, p.isRunning else {
            stop()
            throw RedisServerProcess.Failure(description: "redis-server on port \(port) did not come up: \(logTail())")
        }
    }

    deinit { stop() }

    var isRunning: Bool { process?.isRunning ?? false }

    func stop() {
        guard let p = process else { return }
        process = nil
        // SIGKILL, not terminate(): the child inherits the test thread's signal mask, where SIGTERM may be blocked.
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
        }
        p.waitUntilExit()
    }

    /// The last lines of the server's log, for failure messages.
    func logTail(lines: Int = 15) -> String {
        guard let text = try? String(contentsOfFile: logFile, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// `count` distinct free loopback ports: all are bound at once before any is released, so unlike repeated
    /// `RedisServerProcess.freePort()` calls none can come back twice.
    static func freePorts(_ count: Int) throws -> [Int] {
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw RedisServerProcess.Failure(description: "socket() failed: errno \(errno)") }
            fds.append(fd)
            var addr = RedisServerProcess.loopback(port: 0)
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                    bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0
                }
            }
            guard bound else { throw RedisServerProcess.Failure(description: "bind(127.0.0.1:0) failed: errno \(errno)") }
            ports.append(Int(UInt16(bigEndian: addr.sin_port)))
        }
        return ports
    }

    /// Whether something accepts TCP connections on `port` (a TLS-only server cannot answer a plain PING).
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = RedisServerProcess.loopback(port: port)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; true when it held.
@discardableResult
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if condition() { return true }
        if Date() >= deadline { return false }
        usleep(20_000)
    }
}
