import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `session-gateway serve` when a bind fails: an error line and exit 1, never a crash.
@Suite("Startup failure")
struct StartupFailureTests {
    static let env = ["SHOPIFY_API_SECRET": TestStack.secret]

    @Test("the main listener's port is taken: startup failed, exit 1")
    func listenerPortTaken() throws {
        let (holder, port) = try Self.holdPort()
        defer { close(holder) }
        let config = try TempConfig(TempConfig.yaml(listen: port, admin: try freePort(), upstream: try freePort()))
        defer { config.remove() }
        let gw = try GatewayBinary(["serve", "--config", config.path], environment: Self.env)
        defer { gw.kill() }
        #expect(gw.waitForExit() == 1)
        #expect(gw.process.terminationReason == .exit)
        #expect(gw.stdout.contains("startup failed") || gw.stderr.contains("startup failed"))
    }

    /// The admin bind fails after the gateway listener was bound: that bound listener is released without ever
    /// being started, which must still end in a clean exit 1. The crash this guards against depends on which thread
    /// drops the last reference to the server, so the check runs several times (each run takes well under a second).
    @Test("the admin port is taken after the listener bound: startup failed, exit 1")
    func adminPortTakenAfterListener() throws {
        let (holder, adminPort) = try Self.holdPort()
        defer { close(holder) }
        let config = try TempConfig(TempConfig.yaml(listen: try freePort(), admin: adminPort, upstream: try freePort()))
        defer { config.remove() }
        for attempt in 1...6 {
            let gw = try GatewayBinary(["serve", "--config", config.path], environment: Self.env)
            defer { gw.kill() }
            let status = gw.waitForExit()
            let clean = gw.process.terminationReason == .exit && status == 1
            #expect(clean, "attempt \(attempt): \(gw.process.terminationReason == .exit ? "exit" : "signal") \(status.map(String.init) ?? "?")")
            #expect(gw.stdout.contains("startup failed") || gw.stderr.contains("startup failed"))
            if !clean { break }
        }
    }

    /// A listening socket on 127.0.0.1:0 kept open by the test, so the port stays taken.
    static func holdPort() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, len) == 0 && listen(fd, 4) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard fd >= 0, ok else { throw TestFailure("could not hold a port: errno \(errno)") }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }
}
