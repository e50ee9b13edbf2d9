import Foundation
import GatewayCore
@testable import GatewayHTTP2
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// Helpers of HTTP2TunnelHoldTests: an upstream that watches what arrives behind an upgrade, and the h2c driver steps
// those tests share.

/// Request fields of an extended CONNECT to `path`, with a token or without (for `auth: none` routes).
func connectFields(path: String, token: String?) -> [(String, String)] {
    let all = webSocketConnectFields(path: path, token: token ?? "")
    return token == nil ? all.filter { $0.0 != "authorization" } : all
}

func getFields(path: String) -> [(String, String)] {
    [(":method", "GET"), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", path)]
}

/// Polls `done` every 10 ms for up to `seconds`.
func waitFor(_ seconds: Double, _ done: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !done() {
        if Date() >= deadline { return false }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return true
}

/// What the upgrade's upstream connection saw after the request head, and how it ended.
final class TunnelProbe: @unchecked Sendable {
    private let after = Locked<[UInt8]>([])
    private let before = Locked<[UInt8]>([])
    private let closed = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let upgrade = Atomic<Bool>(false)
    private let plainBefore = Atomic<Int>(0)

    var afterHead: [UInt8] { after.withLock { $0 } }
    /// For failure messages: how much, and how it starts.
    var afterHeadText: String {
        let b = afterHead
        return "\(b.count) bytes: \(String(decoding: b.prefix(120), as: UTF8.self).debugDescription)"
    }
    var beforeSwitch: [UInt8] { before.withLock { $0 } }
    /// Counts, for expectations: an expectation on the arrays would print every byte when it fails.
    var afterHeadCount: Int { after.withLock { $0.count } }
    var beforeSwitchCount: Int { before.withLock { $0.count } }
    /// The connection ended because the gateway closed it (EOF or reset), not because the read timed out.
    var closedByGateway: Bool { closed.load(ordering: .relaxed) }
    var isFinished: Bool { finished.load(ordering: .relaxed) }
    /// The upgrade's head reached the upstream.
    var upgradeSeen: Bool { upgrade.load(ordering: .relaxed) }
    /// Plain requests served on the upgrade's connection before it: 1 means the upgrade came over a pooled one.
    var plainRequestsBeforeUpgrade: Int { plainBefore.load(ordering: .relaxed) }

    func noteUpgrade(plainBefore n: Int) {
        plainBefore.store(n, ordering: .relaxed)
        upgrade.store(true, ordering: .relaxed)
    }

    func appendAfterHead(_ b: [UInt8]) { after.withLock { $0 += b } }
    func setBeforeSwitch(_ b: [UInt8]) { before.withLock { $0 = b } }

    func finish(closed c: Bool) {
        closed.store(c, ordering: .relaxed)
        finished.store(true, ordering: .relaxed)
    }

    /// Waits for the upstream handler to report (it reads until the gateway closes, at most ~10 s).
    func waitFinished(seconds: Double = 20) -> Bool { waitFor(seconds) { isFinished } }

    /// Reads everything until the connection ends, recording it; tells a close by the gateway from a read timeout.
    func watchUntilClosed(_ conn: RawConn) {
        conn.setReadTimeout(milliseconds: 10_000)
        while true {
            let b = conn.readSome()
            if b.isEmpty { break }
            appendAfterHead(b)
        }
        var byte: UInt8 = 0
        let n = recv(conn.fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        let e = errno
        finish(closed: n == 0 || (n < 0 && e != EAGAIN && e != EWOULDBLOCK))
    }
}

extension RawConn {
    func setReadTimeout(milliseconds ms: Int) {
        var tv = timeval(tv_sec: ms / 1000, tv_usec: Int((ms % 1000) * 1000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
}

extension RawUpstream {
    /// An upstream that answers plain requests `200 ok` (keep-alive) and hands the connection of an upgrade request
    /// to `onUpgrade`, noting on `probe` how many plain requests that connection served first.
    static func upgrades(_ probe: TunnelProbe, onUpgrade: @escaping @Sendable (RawConn) -> Void) throws -> RawUpstream {
        try RawUpstream { conn in
            var plain = 0
            while let head = conn.readHead() {
                if head.lowercased().contains("\r\nupgrade: websocket") {
                    probe.noteUpgrade(plainBefore: plain)
                    onUpgrade(conn)
                    return
                }
                plain += 1
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
    }

    /// An upgrade upstream that first reads for `delay` seconds (what arrives then was sent ahead of its switch, and
    /// is noted as `beforeSwitch`), then answers `101` and echoes every byte, noting it as `afterHead`.
    static func switchingAfter(_ delay: Double, _ probe: TunnelProbe) throws -> RawUpstream {
        try upgrades(probe) { conn in
            conn.setReadTimeout(milliseconds: 50)
            var early: [UInt8] = []
            let until = Date().addingTimeInterval(delay)
            while Date() < until { early += conn.readSome() }
            probe.setBeforeSwitch(early)
            conn.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n")
            conn.setReadTimeout(milliseconds: 10_000)
            while true {
                let b = conn.readSome()
                if b.isEmpty { break }
                probe.appendAfterHead(b)
                conn.send(b)
            }
            probe.finish(closed: true)
        }
    }

    /// Like `upgrades`, but after `respond` (which may answer, wait, or say nothing) the upgrade's connection is
    /// only watched until the gateway closes it.
    static func refusingUpgrades(_ probe: TunnelProbe, respond: @escaping @Sendable (RawConn) -> Void) throws -> RawUpstream {
        try upgrades(probe) { conn in
            respond(conn)
            probe.watchUntilClosed(conn)
        }
    }
}

extension H2Driver {
    /// One plain request through the gateway, so this connection's loop keeps an idle upstream connection.
    func warmPool() throws {
        let id = client.request([(":method", "GET"), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", "/public/warm")])
        guard pump(until: { client.responses[id]?.endStreamReceived == true }), client.responses[id]?.status == 200 else {
            throw TestFailure("the warm-up request failed: \(String(describing: client.responses[id]))")
        }
    }

    /// Exchanges frames for `seconds` (or until the peer closes).
    func pump(seconds: Double) {
        let until = Date().addingTimeInterval(seconds)
        pump { Date() >= until }
    }

    /// Opens an extended CONNECT stream whose first write carries the HEADERS and `early` as one DATA frame per
    /// element (larger ones split by nghttp2), all in one `send`: the gateway reads them together.
    func openTunnel(_ fields: [(String, String)], early: [[UInt8]]) throws -> Int32 {
        guard pump(until: { client.serverEnablesConnectProtocol }) else {
            throw TestFailure("the server never enabled extended CONNECT")
        }
        let id = client.request(fields, body: early.first ?? [], keepOpen: true)
        var out = client.produce()
        for chunk in early.dropFirst() {
            client.send(streamID: id, chunk, end: false)
            out += client.produce()
        }
        raw.send(out)
        return id
    }
}
