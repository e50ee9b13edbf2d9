import Foundation
import GatewayConfig
import HTTP2TestSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Upstream connections stay within `max_connections` whatever clients do; waits end at `queue_timeout`.
@Suite(.serialized)
struct UpstreamBoundsTests {
    /// Connections an upstream holds at once, and the most it ever held. A connection counts until the gateway has
    /// closed it: each new one first drops those whose peer already closed, so a handler thread that has not yet
    /// read its EOF does not count twice.
    final class ConnectionGauge: Sendable {
        private let state = Mutex<(open: Set<Int32>, peak: Int)>(([], 0))
        func opened(_ fd: Int32) {
            state.withLock { s in
                s.open = s.open.filter { !ConnectionGauge.peerClosed($0) }
                s.open.insert(fd)
                s.peak = max(s.peak, s.open.count)
            }
        }
        func closed(_ fd: Int32) { state.withLock { _ = $0.open.remove(fd) } }
        var peak: Int { state.withLock { $0.peak } }

        /// The gateway closed it (FIN, even with a request still unread behind it, or a reset). 0x2000 is POLLRDHUP,
        /// which Glibc does not export to Swift.
        private static func peerClosed(_ fd: Int32) -> Bool {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN) | Int16(0x2000), revents: 0)
            guard poll(&pfd, 1, 0) > 0 else { return false }
            return pfd.revents & (Int16(0x2000) | Int16(POLLHUP) | Int16(POLLERR)) != 0
        }
    }

    /// A keep-alive upstream answering each request `200 ok` after `delay` seconds, measuring its connections.
    static func slowUpstream(delay: Double, gauge: ConnectionGauge) throws -> RawUpstream {
        try RawUpstream { conn in
            gauge.opened(conn.fd)
            defer { gauge.closed(conn.fd) }
            while conn.readRequest() != nil {
                Thread.sleep(forTimeInterval: delay)
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
    }

    static func get(_ path: String, token: String? = nil) -> [(String, String)] {
        var f = [(":method", "GET"), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", path)]
        if let token { f.append(("authorization", "Bearer \(token)")) }
        return f
    }

    /// Feeds the client what the gateway sent until it pauses (100 ms); false when the gateway closed.
    static func readWhileAnswering(_ d: H2Driver) -> Bool {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(d.raw.fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return false }
            if n < 0 { return true }
            do { try d.client.receive(Array(buf[0..<n])) } catch { return false }
            let out = d.client.produce()
            if !out.isEmpty { d.raw.send(out) }
        }
    }

    @Test func fortyStreamsShareFourUpstreamConnections() throws {
        let gauge = ConnectionGauge()
        let upstream = try Self.slowUpstream(delay: 0.05, gauge: gauge)
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { c in
            c.upstreams[0].maxConnections = 4
            c.upstreams[0].queueTimeout = .seconds(30)
        }
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        var ids: [Int32] = []
        for i in 0..<40 { ids.append(d.client.request(Self.get("/s/\(i)", token: H2Tokens.good()))) }
        #expect(d.pump { ids.allSatisfy { d.client.responses[$0]?.endStreamReceived == true } })
        #expect(ids.allSatisfy { d.client.responses[$0]?.status == 200 }, "\(ids.map { d.client.responses[$0]?.status ?? 0 })")
        #expect(gauge.peak <= 4, "peak \(gauge.peak)")
        #expect(upstream.connections <= 4, "accepted \(upstream.connections)")
    }

    @Test func twoClientsOnBothLoopsStayWithinTheBound() throws {
        // Two HTTP/1.1 clients land on different loops: the bound is the process's, not each loop's.
        let gauge = ConnectionGauge()
        let upstream = try Self.slowUpstream(delay: 0.02, gauge: gauge)
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { c in
            c.upstreams[0].maxConnections = 1
            c.upstreams[0].queueTimeout = .seconds(30)
        }
        defer { stack.stop() }
        let statuses = Mutex<[Int]>([])
        let group = DispatchGroup()
        for _ in 0..<4 {
            group.enter()
            Thread {
                defer { group.leave() }
                for _ in 0..<10 {
                    guard let c = try? RawClient(port: stack.port) else { continue }
                    c.send("GET /public/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                    let s = c.readResponse(timeout: 20)?.status ?? 0
                    statuses.withLock { $0.append(s) }
                }
            }.start()
        }
        #expect(group.wait(timeout: .now() + 60) == .success)
        let all = statuses.withLock { $0 }
        #expect(all.count == 40 && all.allSatisfy { $0 == 200 }, "\(all)")
        #expect(gauge.peak <= 1, "peak \(gauge.peak)")
    }

    @Test func aWaitPastTheQueueTimeoutIsUpstreamBusyAndGivesTheTokenBack() throws {
        let release = DispatchSemaphore(value: 0)
        let upstream = try RawUpstream { conn in
            while let r = conn.readRequest() {
                if r.head.contains("/hold") { release.wait() }
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { c in
            c.upstreams[0].maxConnections = 1
            c.upstreams[0].queueTimeout = .milliseconds(300)
            c.upstreams[0].responseTimeout = .seconds(20)
        }
        defer { stack.stop() }
        let holder = try RawClient(port: stack.port)
        holder.send("GET /hold HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(H2Tokens.good())\r\n\r\n")
        // The one connection is busy: the next request waits, then is refused.
        Thread.sleep(forTimeInterval: 0.3)
        let token = H2Tokens.good()
        let busy = try RawClient(port: stack.port)
        busy.send("GET /second HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\nOrigin: https://shop.example\r\n\r\n")
        let refused = busy.readResponse(timeout: 10)
        #expect(refused?.status == 503)
        #expect(refused.map { String(decoding: $0.body, as: UTF8.self) }?.contains(#""error":"upstream_busy""#) == true)
        #expect(refused?.header("X-Request-Id") != nil)
        #expect(refused?.header("Access-Control-Allow-Origin") != nil)
        release.signal()
        #expect(holder.readResponse(timeout: 10)?.status == 200)
        // The refused request never reached the upstream: its token is still good.
        let retry = try RawClient(port: stack.port)
        retry.send("GET /second HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\n\r\n")
        #expect(retry.readResponse(timeout: 10)?.status == 200)
        // Used now: a third try is a replay.
        let third = try RawClient(port: stack.port)
        third.send("GET /second HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\n\r\n")
        #expect(third.readResponse(timeout: 10)?.status == 401)
    }

    @Test func fiveThousandHeadersAndResetsKeepUpstreamConnectionsBounded() throws {
        let gauge = ConnectionGauge()
        let upstream = try Self.slowUpstream(delay: 0.01, gauge: gauge)
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { c in
            c.upstreams[0].maxConnections = 8
            c.upstreams[0].queueTimeout = .seconds(5)
        }
        defer { stack.stop() }
        var sent = 0
        var connections = 0
        // nghttp2 may end a connection that resets too much (its rapid-reset guard): then a new one continues.
        while sent < 5000 && connections < 200 {
            connections += 1
            let d = try H2Driver(port: stack.port)
            d.pump { d.client.serverMaxConcurrentStreams > 0 }
            var open = true
            while sent < 5000 && open {
                var batch: [UInt8] = []
                for _ in 0..<50 {
                    let id = d.client.request(Self.get("/public/flood/\(sent)"))
                    batch += d.client.produce()
                    d.client.reset(streamID: id, errorCode: 0x8)
                    batch += d.client.produce()
                    sent += 1
                }
                d.raw.send(batch)
                open = Self.readWhileAnswering(d)
            }
        }
        #expect(sent == 5000)
        #expect(gauge.peak <= 8, "peak \(gauge.peak)")
        // A connect whose stream was reset finishes into the pool, and the next streams take it; only a connection that
        // already carried a reset stream's head is closed. So each batch of 50 costs at most 8 (about 800 here), not
        // a connection per stream.
        #expect(upstream.connections <= 2500, "accepted \(upstream.connections)")
        // Still answering, over both protocols.
        let d = try H2Driver(port: stack.port)
        let id = d.client.request(Self.get("/public/after"))
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true })
        #expect(d.client.responses[id]?.status == 200)
        let c = try RawClient(port: stack.port)
        c.send("GET /public/after HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(c.readResponse(timeout: 10)?.status == 200)
    }
}
