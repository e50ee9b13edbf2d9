import Foundation
import GatewayConfig
import HTTP2TestSupport
import Testing

/// `limits.tunnel_idle_timeout`: a WebSocket tunnel with no bytes either way for that long is closed; traffic keeps it.
@Suite(.serialized)
struct TunnelIdleTests {
    static func stack(_ upstream: RawUpstream) throws -> TestStack {
        try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { c in c.limits.tunnelIdleTimeout = .seconds(1) }
    }

    static func upgrade(_ c: RawClient) {
        c.send("GET /private/ws HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(Tok.valid())\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    }

    @Test func anIdleHTTP1TunnelIsClosedAndTrafficKeepsOneOpen() throws {
        let upstream = try UpstreamFailureTests.webSocketUpstream()
        defer { upstream.stop() }
        let stack = try Self.stack(upstream)
        defer { stack.stop() }

        let busy = try RawClient(port: stack.port)
        Self.upgrade(busy)
        #expect(busy.readResponse()?.status == 101)
        // Messages every 300 ms for 2.4 s, over twice the idle timeout: each one restarts the clock.
        for i in 0..<8 {
            let msg = "m\(i)"
            busy.send(msg)
            #expect(String(decoding: busy.read(count: 5 + msg.utf8.count), as: UTF8.self) == "echo:" + msg)
            Thread.sleep(forTimeInterval: 0.3)
        }

        let quiet = try RawClient(port: stack.port)
        Self.upgrade(quiet)
        #expect(quiet.readResponse()?.status == 101)
        quiet.send("x")
        #expect(String(decoding: quiet.read(count: 6), as: UTF8.self) == "echo:x")
        // Then silence: closed after about a second (the timer wheel adds up to a tick), well within 5.
        #expect(quiet.isClosedByPeer(timeout: 5))
        // The busy one has been silent as long by now: closed too.
        #expect(busy.isClosedByPeer(timeout: 5))
    }

    @Test func anIdleHTTP2TunnelStreamEnds() throws {
        let upstream = try StreamingUpstream()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { c in
            c.limits.tunnelIdleTimeout = .seconds(1)
        }
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        #expect(d.pump { d.client.serverEnablesConnectProtocol })
        let id = d.client.request(webSocketConnectFields(path: "/raw/ws", token: H2Tokens.good()), keepOpen: true)
        #expect(d.pump { d.client.responses[id]?.status != nil })
        #expect(d.client.responses[id]?.status == 200)
        d.client.send(streamID: id, Array("ping".utf8), end: false)
        #expect(d.pump { (d.client.responses[id]?.body.count ?? 0) >= 4 })
        // No more bytes: the gateway ends the stream (END_STREAM, then RST_STREAM(NO_ERROR) for the open half).
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true || d.client.responses[id]?.closed == true })
        // The connection itself stays usable.
        let next = d.client.request([(":method", "GET"), (":scheme", "http"), (":authority", "127.0.0.1"),
                                     (":path", "/raw/small"), ("authorization", "Bearer \(H2Tokens.good())")])
        #expect(d.pump { d.client.responses[next]?.endStreamReceived == true })
        #expect(d.client.responses[next]?.status == 200)
    }
}
