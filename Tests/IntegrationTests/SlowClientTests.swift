import Foundation
import GatewayCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A client that stops reading must not pin the exchange and its upstream connection forever.
@Suite struct SlowClientTests {
    @Test func clientThatStopsReadingIsCutAfterKeepaliveTimeout() throws {
        let payload = patternBytes(8 << 20, seed: 7)
        let upstream = try RawUpstream { conn in
            while conn.readRequest() != nil {
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: \(payload.count)\r\n\r\n")
                if !conn.send(payload) { return }
            }
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { c in
            c.limits.keepaliveTimeout = .milliseconds(300)
        }
        defer { stack.stop() }

        // A small receive buffer, and never a read: the gateway's output blocks.
        let c = try RawClient(port: stack.port, receiveBuffer: 16 << 10)
        c.send("GET /public/big HTTP/1.1\r\nHost: a\r\n\r\n")
        // The gateway closes the connection once its writes were blocked for keepalive_timeout; reading now
        // drains what was buffered and then sees the close (or a reset), well before 8 MiB arrived.
        var total = 0
        var buf = [UInt8](repeating: 0, count: 64 << 10)
        usleep(1_500_000)
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        while true {
            let n = buf.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            total += n
        }
        #expect(total < payload.count, "the stalled client must be cut before the whole body went out")
        // The client connection is gone from the gateway's books.
        var open = stack.gateway.connectionCount
        for _ in 0..<50 where open > 0 {
            usleep(20_000)
            open = stack.gateway.connectionCount
        }
        #expect(open == 0)
    }
}
