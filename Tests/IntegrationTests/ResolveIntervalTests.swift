import Foundation
import GatewayConfig
import GatewayLoop
import GatewayCore
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `resolve_interval`: a server given by name uses every address it resolves to, and follows changes.
@Suite final class ResolveIntervalTests {
    /// What a test's resolver answers now; nil makes the lookup fail.
    final class Answers: Sendable {
        private let current: Locked<[SocketAddress]?>
        private let lookups = Atomic<Int>(0)
        init(_ a: [SocketAddress]?) { current = Locked(a) }
        func set(_ a: [SocketAddress]?) { current.withLock { $0 = a } }
        var count: Int { lookups.load(ordering: .relaxed) }
        var resolver: NameResolver {
            { [self] host, _ in
                lookups.wrappingAdd(1, ordering: .relaxed)
                return host == "localhost" ? current.withLock { $0 } : nil
            }
        }
    }

    final class Closed: Sendable {
        let n = Atomic<Int>(0)
        var count: Int { n.load(ordering: .relaxed) }
    }

    /// A keep-alive upstream answering `200` with its own name, counting the connections that ended.
    static func backend(host: String, port: Int = 0, name: String, closed: Closed = Closed()) throws -> RawUpstream {
        try RawUpstream(host: host, port: port) { conn in
            while conn.readRequest() != nil {
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: \(name.utf8.count)\r\n\r\n\(name)")
            }
            closed.n.wrappingAdd(1, ordering: .relaxed)
        }
    }

    static func address(_ text: String) throws -> SocketAddress { try SocketAddress(parsing: text) }

    @Test func everyAddressOfANameIsUsedRoundRobin() throws {
        let a = try Self.backend(host: "127.0.0.1", name: "a")
        defer { a.stop() }
        let b = try Self.backend(host: "127.0.0.2", port: a.port, name: "b")
        defer { b.stop() }
        let answers = Answers([try Self.address("127.0.0.1:\(a.port)"), try Self.address("127.0.0.2:\(a.port)")])
        let stack = try TestStack(upstreamServers: ["localhost:\(a.port)"], loops: 1, answers: answers)
        defer { stack.stop() }
        var bodies: [String] = []
        for i in 0..<4 { bodies.append(try stack.send("GET", "/public/\(i)").bodyText) }
        #expect(bodies.sorted() == ["a", "a", "b", "b"])
        #expect(a.requests == 2)
        #expect(b.requests == 2)
    }

    @Test func changedAddressesTakeOverAndIdleConnectionsToTheOldOneClose() throws {
        let closedA = Closed()
        let a = try Self.backend(host: "127.0.0.1", name: "a", closed: closedA)
        defer { a.stop() }
        let b = try Self.backend(host: "127.0.0.2", port: a.port, name: "b")
        defer { b.stop() }
        let answers = Answers([try Self.address("127.0.0.1:\(a.port)")])
        let stack = try TestStack(upstreamServers: ["localhost:\(a.port)"], loops: 1, answers: answers) { c in
            c.upstreams[0].resolveInterval = .milliseconds(100)
        }
        defer { stack.stop() }
        #expect(try stack.send("GET", "/public/1").bodyText == "a")
        #expect(closedA.count == 0, "the connection to a waits idle in the pool")

        answers.set([try Self.address("127.0.0.2:\(a.port)")])
        var moved = false
        for _ in 0..<40 where !moved {
            usleep(50_000)
            moved = (try stack.send("GET", "/public/2").bodyText) == "b"
        }
        #expect(moved == true, "requests go to the new address")
        for _ in 0..<40 where closedA.count == 0 { usleep(50_000) }
        #expect(closedA.count == 1, "the idle connection to the address that disappeared is closed")

        // A failed lookup keeps the last good addresses.
        let before = answers.count
        answers.set(nil)
        for _ in 0..<40 where answers.count < before + 2 { usleep(50_000) }
        #expect(answers.count >= before + 2, "looked up again every interval")
        for i in 0..<3 { #expect(try stack.send("GET", "/public/f\(i)").bodyText == "b") }
    }

    @Test func localhostResolvesThroughTheSystem() throws {
        let a = try Self.backend(host: "127.0.0.1", name: "a")
        defer { a.stop() }
        let stack = try TestStack(upstreamServers: ["localhost:\(a.port)"], loops: 1)
        defer { stack.stop() }
        #expect(try stack.send("GET", "/public/x").bodyText == "a")
    }
}
