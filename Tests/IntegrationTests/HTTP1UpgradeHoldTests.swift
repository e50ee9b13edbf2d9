import Foundation
import Testing

/// HTTP/1.1 bytes behind an `Upgrade: websocket` request, sent early (with the head), split over writes, late (while
/// the upstream has not answered), and on a keep-alive client whose loop holds a pooled upstream connection: they
/// reach the upstream only once it switched protocols, and are the client's next request otherwise.
@Suite(.serialized)
struct HTTP1UpgradeHoldTests {
    enum Delivery: CaseIterable, Sendable {
        /// In the same write as the upgrade head.
        case early
        /// In three writes after the head, 50 ms apart, before the upstream answers.
        case split
        /// One write 150 ms after the head, while the upstream still waits.
        case late
    }

    static let upgradeHead = "GET /public/ws HTTP/1.1\r\nHost: gw.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    /// Sends the upgrade head and `behind` as `delivery` says, on a client that first made one plain request when
    /// `pooled` (so its loop reuses that upstream connection for the upgrade).
    static func send(_ c: RawClient, behind: [UInt8], _ delivery: Delivery, pooled: Bool) {
        if pooled {
            c.send("GET /public/warm HTTP/1.1\r\nHost: gw.test\r\n\r\n")
            #expect(c.readResponse(timeout: 10)?.status == 200)
        }
        let head = Array(upgradeHead.utf8)
        switch delivery {
        case .early:
            c.send(head + behind)
        case .split:
            c.send(head)
            let third = behind.count / 3
            for part in [behind[..<third], behind[third..<(2 * third)], behind[(2 * third)...]] {
                Thread.sleep(forTimeInterval: 0.05)
                c.send(Array(part))
            }
        case .late:
            c.send(head)
            Thread.sleep(forTimeInterval: 0.15)
            c.send(behind)
        }
    }

    @Test(arguments: Delivery.allCases, [false, true])
    func bytesBehindARefusedUpgradeAreTheNextRequest(_ delivery: Delivery, pooled: Bool) throws {
        let probe = TunnelProbe()
        let upstream = try RawUpstream.refusingUpgrades(probe) { conn in
            // Long enough for every delivery to have sent its bytes before the answer.
            Thread.sleep(forTimeInterval: 0.4)
            conn.send(HTTP2TunnelHoldTests.refusal)
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        Self.send(c, behind: HTTP2TunnelHoldTests.smuggled, delivery, pooled: pooled)
        let first = c.readResponse(timeout: 10)
        #expect(first?.status == 200)
        #expect(first?.bodyText == "no")
        // The smuggled bytes were judged as the client's own next request: /admin/orders needs a token.
        expectAnswer(c.readResponse(timeout: 10), status: 401, code: "missing_token")
        #expect(probe.waitFinished(), "the upstream handler never finished")
        #expect(probe.afterHeadCount == 0, "bytes behind the upgrade reached the upstream: \(probe.afterHeadText)")
        #expect(probe.closedByGateway, "the refused upgrade's upstream connection was not closed")
        #expect(probe.plainRequestsBeforeUpgrade == (pooled ? 1 : 0))
        #expect(!upstream.receivedHeads.contains { $0.lowercased().contains("victim") }, "\(upstream.receivedHeads)")
    }

    @Test(arguments: Delivery.allCases, [false, true])
    func bytesBehindAnAcceptedUpgradeArriveAfterThe101(_ delivery: Delivery, pooled: Bool) throws {
        let probe = TunnelProbe()
        // 0.4 s before the 101: anything the upstream reads by then was sent ahead of the switch.
        let upstream = try RawUpstream.switchingAfter(0.4, probe)
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }
        let c = try RawClient(port: stack.port)
        let behind = HTTP2TunnelHoldTests.smuggled + patternBytes(3000)
        Self.send(c, behind: behind, delivery, pooled: pooled)
        let r = c.readResponse(timeout: 10)
        #expect(r?.status == 101)
        let echoed = c.read(count: behind.count)
        let exact = echoed == behind
        #expect(exact, "echoed \(echoed.count) of \(behind.count) bytes")
        #expect(probe.beforeSwitchCount == 0, "\(probe.beforeSwitchCount) bytes reached the upstream before its 101")
        #expect(probe.plainRequestsBeforeUpgrade == (pooled ? 1 : 0))
    }
}
