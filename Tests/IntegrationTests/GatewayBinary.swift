import Foundation
import GatewayCore
#if canImport(Glibc)
import Glibc
#endif

/// A `session-gateway` child process with its output collected; always SIGKILLed in `kill()` (call it in teardown).
final class GatewayBinary: @unchecked Sendable {
    let process = Process()
    /// Bytes read from one pipe so far.
    private final class Sink: Sendable {
        let bytes = Locked<[UInt8]>([])
    }

    private let out = Sink()
    private let err = Sink()
    private let readers = DispatchGroup()

    init(_ args: [String], environment: [String: String] = [:], directory: URL? = nil) throws {
        process.executableURL = URL(fileURLWithPath: gatewayBinary())
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let o = Pipe(), e = Pipe()
        process.standardOutput = o
        process.standardError = e
        process.standardInput = FileHandle.nullDevice
        try process.run()
        collect(o.fileHandleForReading, into: out)
        collect(e.fileHandleForReading, into: err)
    }

    private func collect(_ handle: FileHandle, into sink: Sink) {
        readers.enter()
        let group = readers
        let t = Thread {
            while true {
                let d = handle.availableData
                if d.isEmpty { break }
                sink.bytes.withLock { $0.append(contentsOf: d) }
            }
            group.leave()
        }
        t.start()
    }

    var stdout: String { String(decoding: out.bytes.withLock { $0 }, as: UTF8.self) }
    var stderr: String { String(decoding: err.bytes.withLock { $0 }, as: UTF8.self) }
    var pid: Int32 { process.processIdentifier }

    func signal(_ signo: Int32) { Glibc.kill(pid, signo) }

    /// The exit status once the process ended within `timeout` seconds, else nil.
    func waitForExit(timeout: Double = 15) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { return nil }
        _ = readers.wait(timeout: .now() + 5)
        return process.terminationStatus
    }

    /// Waits until `text` shows up in stdout or stderr (log lines arrive asynchronously).
    @discardableResult
    func waitForOutput(_ text: String, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stdout.contains(text) || stderr.contains(text) { return true }
            usleep(20_000)
        }
        return false
    }

    func kill() {
        if process.isRunning { signal(SIGKILL) }
        process.waitUntilExit()
    }
}

/// A port that was free a moment ago (bind 127.0.0.1:0, read it, close).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    let r = withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if r != 0 { throw TestFailure("bind failed") }
    var bound = sockaddr_in()
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: bound.sin_port))
}

/// Polls until something accepts on 127.0.0.1:`port` (a started child process), up to `timeout` seconds.
func waitForListener(port: Int, timeout: Double = 15) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if (try? RawClient(port: port)) != nil { return true }
        usleep(50_000)
    }
    return false
}

/// A temporary directory with a `gateway.yaml`, removed by `remove()`.
struct TempConfig {
    let dir: URL
    var path: String { dir.appendingPathComponent("gateway.yaml").path }

    init(_ yaml: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("itest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try write(yaml)
    }

    func write(_ yaml: String) throws { try yaml.write(toFile: path, atomically: true, encoding: .utf8) }
    func remove() { try? FileManager.default.removeItem(at: dir) }

    /// A complete config for the binary: one listener, admin, one app from $SHOPIFY_API_SECRET, upstream `app`.
    static func yaml(listen: Int, admin: Int, upstream: Int, extraRoutes: String = "", responseTimeout: String = "30s") -> String {
        """
        listeners:
          - address: 127.0.0.1:\(listen)
        admin:
          address: 127.0.0.1:\(admin)
        apps:
          - client_id: "test-client-id"
            secrets:
              - env: SHOPIFY_API_SECRET
        upstreams:
          - name: app
            servers: ["127.0.0.1:\(upstream)"]
            connect_timeout: 1s
            response_timeout: \(responseTimeout)
        routes:
        \(extraRoutes)  - path_prefix: /public
            auth: none
            upstream: app
          - path_prefix: /api
            auth: required
            upstream: app
        shutdown:
          drain_timeout: 10s
        logging:
          level: info
          format: json

        """
    }
}
