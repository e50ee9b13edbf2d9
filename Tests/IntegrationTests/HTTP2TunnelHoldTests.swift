import Foundation
import GatewayConfig
import GatewayCore
import GatewayProxy
@testable import GatewayHTTP2
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Hostile clients against the rule that bytes sent on an upgrade reach the upstream only after it answered `101`
/// (extended CONNECT over h2c, and HTTP/1.1 `Upgrade`), plus the lifecycle rules that landed with it: RST_STREAM
/// (NO_ERROR) after a response to a half-open stream, `keepalive_timeout` on an HTTP/2 connection with no streams,
/// `response_timeout` counted from the end of the request, and a `jti` given back when no upstream was reached.
///
/// Timing here only orders events (a sleep lets bytes arrive before the upstream moves on); no assertion depends on
/// how fast the machine is, except lower bounds, which a loaded machine can only make larger.
@Suite(.serialized)
struct HTTP2TunnelHoldTests {
    /// A complete HTTP/1.1 request hidden in the tunnel bytes: a backend that read it as its next keep-alive request
    /// would serve it with a forged identity, past the gateway's auth and header stripping.
    static let smuggled = Array("GET /admin/orders HTTP/1.1\r\nHost: app\r\nX-Shop-Domain: victim.myshopify.com\r\n\r\n".utf8)
    static let refusal = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno"

    // MARK: 1. refused upgrade: the early bytes are dropped, the upstream connection closed

    /// `/public/ws` is `auth: none`, `/ws/...` needs the token: both must hold the early DATA the same way.
    /// `pooled`: a keep-alive connection to the upstream is idle in the pool, so the upgrade is written before the
    /// gateway even reads the DATA behind it (the case the smuggling needed); otherwise the DATA arrives while the
    /// gateway is still connecting.
    @Test(arguments: [false, true], [false, true])
    func earlyBytesBehindARefusedUpgradeNeverReachTheUpstream(authenticated: Bool, pooled: Bool) throws {
        let probe = TunnelProbe()
        let upstream = try RawUpstream.refusingUpgrades(probe) { conn in conn.send(Self.refusal) }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        if pooled { try d.warmPool() }
        let path = authenticated ? "/ws/chat" : "/public/ws"
        let id = try d.openTunnel(connectFields(path: path, token: authenticated ? H2Tokens.good() : nil),
                                  early: [Self.smuggled])
        #expect(d.pump { d.client.responses[id]?.closed == true })
        let r = d.client.responses[id]
        #expect(r?.status == 200)
        #expect(r?.body == Array("no".utf8))
        #expect(r?.endStreamReceived == true)
        // The client's half was still open: the stream is ended with RST_STREAM(NO_ERROR) after the response.
        #expect(r?.resetReceived == HTTP2ErrorCode.noError, "\(String(describing: r))")

        #expect(probe.waitFinished(), "the upstream handler never finished")
        #expect(probe.plainRequestsBeforeUpgrade == (pooled ? 1 : 0),
                "precondition: the upgrade \(pooled ? "should reuse" : "should open") a connection")
        let heads = upstream.receivedHeads
        #expect(heads.count == (pooled ? 2 : 1), "\(heads)")
        let upgrade = heads.last ?? ""
        #expect(upgrade.hasPrefix("GET \(path) HTTP/1.1\r\n"), "\(heads)")
        #expect(upgrade.lowercased().contains("\r\nupgrade: websocket"), "\(heads)")
        #expect(!heads.contains { $0.lowercased().contains("victim") }, "\(heads)")
        if authenticated {
            #expect(upgrade.lowercased().contains("\r\nx-shop-domain: shop.myshopify.com"), "\(heads)")
        }
        #expect(probe.afterHeadCount == 0, "smuggled bytes reached the upstream: \(probe.afterHeadText)")
        #expect(probe.closedByGateway, "the refused upgrade's upstream connection was not closed")

        // The HTTP/2 connection goes on, and the next request gets a connection of its own (the refused one was
        // not parked).
        let next = d.client.request(getFields(path: "/public/next"))
        #expect(d.pump { d.client.responses[next]?.endStreamReceived == true })
        #expect(d.client.responses[next]?.status == 200)
        #expect(d.client.responses[next]?.body == Array("ok".utf8))
        #expect(upstream.connections == 2)
        #expect(!d.peerClosed)
    }

    /// The smuggled request sent early (split over three DATA frames in the HEADERS' write), again while the upstream
    /// holds its answer, and twice more once the response head reached the client: none of it may reach the upstream.
    @Test(arguments: [false, true])
    func earlyLateTwiceAndSplitBytesAreAllDropped(pooled: Bool) throws {
        let probe = TunnelProbe()
        let midSent = Atomic<Bool>(false)
        let lateSent = Atomic<Bool>(false)
        let upstream = try RawUpstream.refusingUpgrades(probe) { conn in
            // Answer only once the client's further DATA had time to reach the gateway.
            _ = waitFor(15) { midSent.load(ordering: .relaxed) }
            Thread.sleep(forTimeInterval: 0.2)
            conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
            _ = waitFor(15) { lateSent.load(ordering: .relaxed) }
            Thread.sleep(forTimeInterval: 0.2)
            conn.send("no")
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        if pooled { try d.warmPool() }
        let s = Self.smuggled
        let id = try d.openTunnel(connectFields(path: "/ws/split", token: H2Tokens.good()),
                                  early: [Array(s[0..<5]), Array(s[5..<40]), Array(s[40...])])
        // Mid: the upgrade went upstream and no answer came yet.
        #expect(d.pump { probe.upgradeSeen })
        d.client.send(streamID: id, s, end: false)
        d.pump(seconds: 0.1)
        midSent.store(true, ordering: .relaxed)
        // Late, twice: the response head is at the client, its body not yet.
        #expect(d.pump { d.client.responses[id]?.status != nil })
        d.client.send(streamID: id, s, end: false)
        d.pump(seconds: 0.05)
        d.client.send(streamID: id, s, end: false)
        d.pump(seconds: 0.1)
        lateSent.store(true, ordering: .relaxed)
        #expect(d.pump { d.client.responses[id]?.closed == true })
        let r = d.client.responses[id]
        #expect(r?.status == 200)
        #expect(r?.body == Array("no".utf8))
        #expect(r?.resetReceived == HTTP2ErrorCode.noError, "\(String(describing: r))")

        #expect(probe.waitFinished(), "the upstream handler never finished")
        #expect(probe.plainRequestsBeforeUpgrade == (pooled ? 1 : 0))
        #expect(upstream.receivedHeads.count == (pooled ? 2 : 1), "\(upstream.receivedHeads)")
        #expect(probe.afterHeadCount == 0, "smuggled bytes reached the upstream: \(probe.afterHeadText)")
        #expect(probe.closedByGateway, "the refused upgrade's upstream connection was not closed")
        #expect(!d.peerClosed)
    }

    // MARK: 2. accepted upgrade: the early bytes go after the 101, byte-exact

    @Test(arguments: [false, true])
    func earlyBytesAreHeldUntilThe101ThenDeliveredByteExact(pooled: Bool) throws {
        let probe = TunnelProbe()
        // 0.3 s before the 101: anything the upstream reads by then was sent ahead of the switch.
        let upstream = try RawUpstream.switchingAfter(0.3, probe)
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        if pooled { try d.warmPool() }
        // More than one DATA frame's worth (16 KiB), so the held bytes span frames too.
        let early = Self.smuggled + patternBytes(20_000)
        let id = try d.openTunnel(connectFields(path: "/ws/echo", token: H2Tokens.good()), early: [early])
        #expect(d.pump { (d.client.responses[id]?.body.count ?? 0) >= early.count })
        #expect(d.client.responses[id]?.status == 200)
        let got = d.client.responses[id]?.body ?? []
        let echoedExactly = got == early
        #expect(echoedExactly, "echoed \(got.count) bytes, sent \(early.count) early bytes")
        #expect(probe.beforeSwitchCount == 0, "\(probe.beforeSwitchCount) bytes reached the upstream before its 101")
        #expect(probe.plainRequestsBeforeUpgrade == (pooled ? 1 : 0))
        #expect(upstream.receivedHeads.count == (pooled ? 2 : 1), "\(upstream.receivedHeads)")

        // The tunnel carries later bytes both ways too.
        let later = Array("after the switch".utf8)
        d.client.send(streamID: id, later, end: false)
        #expect(d.pump { (d.client.responses[id]?.body.count ?? 0) >= early.count + later.count })
        let all = d.client.responses[id]?.body ?? []
        let allExact = all == early + later
        #expect(allExact, "client has \(all.count) bytes, expected \(early.count + later.count)")
        let upstreamExact = probe.afterHead == early + later
        #expect(upstreamExact, "upstream read \(probe.afterHead.count) bytes after the head, expected \(early.count + later.count)")
        #expect(d.client.responses[id]?.resetReceived == nil)
    }

    // MARK: 3. client reset while the upgrade is pending

    @Test(arguments: [false, true])
    func clientResetBeforeThe101ClosesTheUpstreamAndForwardsNothingHeld(pooled: Bool) throws {
        let probe = TunnelProbe()
        // The upgrade is never answered: the handler just watches what arrives until the gateway closes.
        let upstream = try RawUpstream.refusingUpgrades(probe) { _ in }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        if pooled { try d.warmPool() }
        let id = try d.openTunnel(connectFields(path: "/ws/reset", token: H2Tokens.good()),
                                  early: [Self.smuggled, patternBytes(3000)])
        #expect(d.pump { probe.upgradeSeen })
        // Let the DATA reach the gateway before the reset (it was in the HEADERS' write; this is only margin).
        d.pump(seconds: 0.1)
        d.client.reset(streamID: id, errorCode: HTTP2ErrorCode.cancel)
        #expect(d.pump { probe.isFinished })
        #expect(probe.waitFinished(), "the upstream handler never finished")
        #expect(probe.closedByGateway, "the upstream connection of a reset upgrade stayed open")
        #expect(probe.afterHeadCount == 0, "held bytes reached the upstream: \(probe.afterHeadText)")
        #expect(probe.plainRequestsBeforeUpgrade == (pooled ? 1 : 0))
        #expect(upstream.receivedHeads.count == (pooled ? 2 : 1), "\(upstream.receivedHeads)")
        #expect(d.client.responses[id]?.status == nil)

        let next = d.client.request(getFields(path: "/public/after-reset"))
        #expect(d.pump { d.client.responses[next]?.endStreamReceived == true })
        #expect(d.client.responses[next]?.status == 200)
        #expect(d.client.responses[next]?.body == Array("ok".utf8))
        #expect(upstream.connections == 2)
        #expect(!d.peerClosed)
    }

    // MARK: the same rule over HTTP/1.1

    /// HTTP/1.1: bytes behind an `Upgrade` request the upstream refused are the client's next request, judged by the
    /// gateway like any other (here: no token, 401), never written to the upstream behind the upgrade.
    @Test func http1BytesBehindARefusedUpgradeAreJudgedAsTheNextRequest() throws {
        let probe = TunnelProbe()
        let upstream = try RawUpstream.refusingUpgrades(probe) { conn in conn.send(Self.refusal) }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send(Array(("GET /public/ws HTTP/1.1\r\nHost: gw.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8) + Self.smuggled)
        let first = c.readResponse(timeout: 10)
        #expect(first?.status == 200)
        #expect(first?.bodyText == "no")
        // The smuggled bytes were the client's own next request: /admin/orders needs a token.
        expectAnswer(c.readResponse(timeout: 10), status: 401, code: "missing_token")
        #expect(probe.waitFinished(), "the upstream handler never finished")
        #expect(probe.afterHeadCount == 0, "smuggled bytes reached the upstream: \(probe.afterHeadText)")
        #expect(probe.closedByGateway, "the refused upgrade's upstream connection was not closed")
        #expect(!upstream.receivedHeads.contains { $0.lowercased().contains("victim") }, "\(upstream.receivedHeads)")
    }

    // MARK: 4. a half-open stream after a 401

    @Test func answerToAHalfOpenStreamIsFollowedByNoErrorResetAndTheIdleConnectionCloses() throws {
        let stack = try TestStack { $0.limits.keepaliveTimeout = .seconds(1) }
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        let id = d.client.request([(":method", "POST"), (":scheme", "http"), (":authority", "127.0.0.1"),
                                   (":path", "/private/upload"), ("content-type", "application/octet-stream")],
                                  body: Array("the first part of a body that never ends".utf8), keepOpen: true)
        #expect(d.pump { d.client.responses[id]?.resetReceived != nil || d.client.responses[id]?.closed == true })
        let r = d.client.responses[id]
        #expect(r?.status == 401)
        #expect(r?.endStreamReceived == true)
        let text = String(decoding: r?.body ?? [], as: UTF8.self)
        #expect(text.contains(#""error":"missing_token""#), "\(text)")
        #expect(r?.resetReceived == HTTP2ErrorCode.noError, "\(String(describing: r))")
        // No stream is open now: after keepalive_timeout the gateway closes the connection.
        d.pump { false }
        #expect(d.peerClosed, "the idle HTTP/2 connection was not closed after keepalive_timeout")
    }

    // MARK: 5. response_timeout counts from the end of the request

    /// The request bodies an upstream read, in order.
    final class BodyLog: Sendable {
        private let bodies = Locked<[[UInt8]]>([])
        func append(_ b: [UInt8]) { bodies.withLock { $0.append(b) } }
        func withLock<R>(_ body: ([[UInt8]]) -> R) -> R { bodies.withLock { body($0) } }
    }

    /// An upstream that reads whole requests, keeps their bodies, and answers each `200 ok`.
    static func bodyRecordingUpstream() throws -> (RawUpstream, BodyLog) {
        let bodies = BodyLog()
        let upstream = try RawUpstream { conn in
            while let r = conn.readRequest() {
                bodies.append(r.body)
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
        return (upstream, bodies)
    }

    @Test(arguments: [false, true])
    func slowHTTP1UploadOutlivesResponseTimeout(chunked: Bool) throws {
        let (upstream, bodies) = try Self.bodyRecordingUpstream()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { $0.upstreams[0].responseTimeout = .seconds(1) }
        defer { stack.stop() }
        let pieces = (0..<6).map { patternBytes(1000, seed: UInt64($0 + 1)) }
        let c = try RawClient(port: stack.port)
        let framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: \(pieces.count * 1000)"
        c.send("POST /public/upload HTTP/1.1\r\nHost: gw.test\r\n\(framing)\r\n\r\n")
        // ~2.7 s of upload, well past the 1 s response_timeout.
        for p in pieces {
            Thread.sleep(forTimeInterval: 0.45)
            c.send(chunked ? Array("3e8\r\n".utf8) + p + [13, 10] : p)
        }
        if chunked { c.send("0\r\n\r\n") }
        let r = c.readResponse(timeout: 10)
        #expect(r?.status == 200, "\(r?.bodyText ?? "no response")")
        #expect(r?.bodyText == "ok")
        let received = bodies.withLock { $0 }
        let bodyExact = received == [pieces.flatMap { $0 }]
        #expect(bodyExact, "upstream bodies: \(received.map(\.count))")
    }

    @Test func slowHTTP2UploadOutlivesResponseTimeout() throws {
        let (upstream, bodies) = try Self.bodyRecordingUpstream()
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { $0.upstreams[0].responseTimeout = .seconds(1) }
        defer { stack.stop() }
        let pieces = (0..<6).map { patternBytes(1000, seed: UInt64($0 + 1)) }
        let d = try H2Driver(port: stack.port)
        let id = d.client.request([(":method", "POST"), (":scheme", "http"), (":authority", "127.0.0.1"),
                                   (":path", "/public/upload")], body: pieces[0], keepOpen: true)
        for p in pieces.dropFirst() {
            d.pump(seconds: 0.45)
            d.client.send(streamID: id, p, end: false)
        }
        d.pump(seconds: 0.45)
        d.client.send(streamID: id, [], end: true)
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true || d.client.responses[id]?.resetReceived != nil })
        let r = d.client.responses[id]
        #expect(r?.status == 200, "\(String(decoding: r?.body ?? [], as: UTF8.self))")
        #expect(r?.body == Array("ok".utf8))
        let received = bodies.withLock { $0 }
        let bodyExact = received == [pieces.flatMap { $0 }]
        #expect(bodyExact, "upstream bodies: \(received.map(\.count))")
    }

    /// The control for the two above: once the request is out, a silent upstream still gets its 504, and not
    /// before `response_timeout` has passed since the last body byte.
    @Test func responseTimeoutStillRunsOnceTheSlowUploadIsComplete() throws {
        let upstream = try RawUpstream { conn in
            guard conn.readRequest() != nil else { return }
            conn.waitForClose()
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { $0.upstreams[0].responseTimeout = .seconds(1) }
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        c.send("POST /public/upload HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 3000\r\n\r\n")
        for i in 0..<3 {
            Thread.sleep(forTimeInterval: 0.45)
            c.send(patternBytes(1000, seed: UInt64(i + 1)))
        }
        let lastByte = Date()
        let r = c.readResponse(timeout: 10)
        let waited = Date().timeIntervalSince(lastByte)
        expectAnswer(r, status: 504, code: "upstream_timeout")
        #expect(waited >= 0.9, "504 came \(waited) s after the last body byte, before response_timeout (1 s)")
    }

    // MARK: 6. a refused connect gives the jti back

    /// One server that refuses connections (nothing listens on its port), then comes up on the same port. With a
    /// single server the pool always picks it (resting only steers among several), so the same token is retried
    /// against the same entry: refused three times (502, never 401 token_replayed), then forwarded once, then replayed.
    @Test func refusedConnectGivesTheTokenBack() throws {
        let port = try freePort()
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(port)"])
        defer { stack.stop() }
        let token = Tok.valid(shop: "retry.myshopify.com")
        expectAnswer(try stack.send("GET", "/orders", token: token), status: 502, code: "upstream_unavailable")
        // Nothing reached an upstream: the jti went back, so the retry is refused for the connect again, not replayed,
        // over HTTP/1.1 and over HTTP/2 alike.
        expectAnswer(try stack.send("GET", "/orders", token: token), status: 502, code: "upstream_unavailable")
        let d = try H2Driver(port: stack.port)
        let id = d.client.request(getFields(path: "/orders") + [("authorization", "Bearer \(token)")])
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true })
        #expect(d.client.responses[id]?.status == 502)
        let h2Body = String(decoding: d.client.responses[id]?.body ?? [], as: UTF8.self)
        #expect(h2Body.contains(#""error":"upstream_unavailable""#), "\(h2Body)")

        var ec = GatewayConfig()
        ec.listeners = [ListenerConfig(address: "127.0.0.1:\(port)")]
        ec.admin = nil
        let backend = try GatewayServer(config: ec, kind: .echo, loopCount: 1)
        try backend.start()
        defer {
            let done = DispatchSemaphore(value: 0)
            backend.drain(timeout: .milliseconds(100)) { done.signal() }
            done.wait()
        }
        let ok = try stack.send("GET", "/orders", token: token)
        #expect(ok.status == 200, "\(ok.bodyText)")
        #expect(ok.echoedHeaders["x-shop-domain"] == "retry.myshopify.com", "\(ok.bodyText)")
        // It reached the upstream this time: the token is used up.
        expectAnswer(try stack.send("GET", "/orders", token: token), status: 401, code: "token_replayed")
    }
}
