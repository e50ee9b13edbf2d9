import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real binary in front of the real echo backend on free ports, `limits` appended to the test config.
final class RunningGateway {
    let listen: Int
    let admin: Int
    /// The config without its `limits` section (a reload writes a new one after it).
    let base: String
    let config: TempConfig
    let echo: GatewayBinary
    let gw: GatewayBinary

    init(limits: String, env: [String: String]) throws {
        let echoPort = try freePort()
        (listen, admin) = (try freePort(), try freePort())
        base = TempConfig.yaml(listen: listen, admin: admin, upstream: echoPort)
        config = try TempConfig(base + limits)
        echo = try GatewayBinary(["echo-backend", "--listen", "127.0.0.1:\(echoPort)"])
        gw = try GatewayBinary(["serve", "--config", config.path], environment: env)
        #expect(waitForListener(port: echoPort))
        #expect(waitForListener(port: listen), "gateway did not start: \(gw.stderr)")
    }

    func stop() {
        gw.kill()
        echo.kill()
        config.remove()
    }
}

/// The real binary at its connection limits: out of file descriptors (accepting rests instead of spinning, and
/// serves again once descriptors are free) and `limits.max_connections` changed by a reload.
@Suite(.serialized) final class ConnectionLimitsTests {
    let env = ["SHOPIFY_API_SECRET": TestStack.secret]

    /// CPU seconds (user + system) the process has used so far, from /proc/PID/stat.
    func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        guard let close = stat.lastIndex(of: ")") else { throw TestFailure("unreadable stat: \(stat)") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]) else {
            throw TestFailure("unreadable stat: \(stat)")
        }
        return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The share of one core the process used over about `seconds` of wall time.
    func cpuShare(_ pid: Int32, seconds: Double) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        let before = try cpuSeconds(pid)
        usleep(UInt32(seconds * 1_000_000))
        let after = try cpuSeconds(pid)
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (after - before) / wall
    }

    func openDescriptors(_ pid: Int32) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
    }

    /// One request on a fresh connection; nil when none could be made or no answer came (both expected while the
    /// gateway is out of descriptors).
    func status(_ port: Int, _ target: String) -> Int? {
        guard let c = try? RawClient(port: port) else { return nil }
        c.send(httpRequest("GET", target))
        return c.readResponse(timeout: 2)?.status
    }

    /// Retries `status` until it is 200 or `timeout` seconds pass; the last status seen.
    func eventually200(_ port: Int, _ target: String, timeout: Double = 15) -> Int? {
        let deadline = Date().addingTimeInterval(timeout)
        var last: Int?
        while Date() < deadline {
            last = status(port, target)
            if last == 200 { return 200 }
            usleep(100_000)
        }
        return last
    }

    @Test func holdingMoreConnectionsThanDescriptorsDoesNotSpinAndServingResumesAfter() throws {
        // Accepted clients that send nothing must stay open while the test measures: no 408 after 10 s.
        let running = try RunningGateway(limits: "limits:\n  header_timeout: 60s\n", env: env)
        defer { running.stop() }
        let (gw, listen, admin) = (running.gw, running.listen, running.admin)
        #expect(eventually200(listen, "/public/warm") == 200, "no proxied answer before the test: \(gw.stderr)")
        #expect(eventually200(admin, "/healthz") == 200)

        // Room for a few dozen more descriptors: 200 held clients run the table out, the rest wait in the backlog.
        let limit = try openDescriptors(gw.pid) + 32
        let set = try runProcess(tool("prlimit"), ["--pid", "\(gw.pid)", "--nofile=\(limit):\(limit)"])
        try #require(set.status == 0, "prlimit failed: \(set.stderr)")

        var held: [RawClient] = []
        for _ in 0..<200 { held.append(try RawClient(port: listen)) }
        #expect(gw.waitForOutput("accept paused"), "no pause logged: \(gw.stderr)")
        let pausedAt = Date()
        // Two samples, each a second: a busy loop would show as most of a core in both; the bound is generous
        // (a build running next to the test does not make the gateway use more CPU, only less).
        let shares = [try cpuShare(gw.pid, seconds: 1), try cpuShare(gw.pid, seconds: 1)]
        #expect(shares.allSatisfy { $0 < 0.3 }, "gateway CPU while out of descriptors: \(shares)")
        #expect(gw.process.isRunning)
        // The warning is limited to one a second (plus one for the edges of the window).
        let warnings = gw.stderr.components(separatedBy: "accept paused").count - 1
        let elapsed = Date().timeIntervalSince(pausedAt)
        #expect(warnings >= 1 && Double(warnings) <= elapsed + 2, "\(warnings) warnings in \(elapsed) s: \(gw.stderr)")
        #expect(gw.stderr.contains("Too many open files"), "the warning should name the error: \(gw.stderr)")

        held.removeAll()
        #expect(eventually200(admin, "/healthz") == 200, "/healthz after the clients left: \(gw.stderr)")
        #expect(eventually200(listen, "/public/after") == 200, "proxied request after the clients left: \(gw.stderr)")
        #expect(gw.process.isRunning)
    }

    @Test func aReloadedMaxConnectionsIsAppliedToNewConnections() throws {
        let running = try RunningGateway(limits: "limits:\n  max_connections: 1000\n", env: env)
        defer { running.stop() }
        let (gw, listen, base, config) = (running.gw, running.listen, running.base, running.config)

        // Two keep-alive clients, each answered once, so both surely count as open.
        let held = [try RawClient(port: listen), try RawClient(port: listen)]
        for (i, c) in held.enumerated() {
            c.send(httpRequest("GET", "/public/held\(i)"))
            #expect(c.readResponse()?.status == 200)
        }

        func reload(maxConnections: Int, times: Int) {
            try? config.write(base + "limits:\n  max_connections: \(maxConnections)\n")
            gw.signal(SIGHUP)
            let deadline = Date().addingTimeInterval(10)
            while gw.stderr.components(separatedBy: "config reloaded").count - 1 < times && Date() < deadline { usleep(20_000) }
            #expect(gw.stderr.components(separatedBy: "config reloaded").count - 1 == times, "no reload: \(gw.stderr)")
        }

        reload(maxConnections: 2, times: 1)
        // A third connection is over the new limit: closed without an answer. (Connections of the checks above
        // that are still closing only raise the count.)
        let over = try RawClient(port: listen)
        over.send(httpRequest("GET", "/public/over"))
        #expect(over.readResponse() == nil, "a connection over max_connections was served")
        // The open ones are not touched by the lower limit.
        held[0].send(httpRequest("GET", "/public/again"))
        #expect(held[0].readResponse()?.status == 200)

        reload(maxConnections: 1000, times: 2)
        #expect(eventually200(listen, "/public/after") == 200, "new connections refused after the limit was raised")
        #expect(gw.process.isRunning)
    }
}
