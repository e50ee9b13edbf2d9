import Foundation
@testable import GatewayHTTP2
import HTTP2TestSupport
import Testing

/// SETTINGS_MAX_CONCURRENT_STREAMS (HTTP2Settings, 100) against a client that ignores it. nghttp2 1.52 refuses excess
/// streams with RST_STREAM REFUSED_STREAM while its SETTINGS are unacknowledged, and treats an excess stream after the
/// acknowledgement as a connection error (GOAWAY PROTOCOL_ERROR), which RFC 9113 5.4.1 allows for any stream error.
@Suite(.serialized)
struct HTTP2ConcurrencyTests {
    static let limit = Int(HTTP2Settings().maxConcurrentStreams)

    /// An upstream that holds every response until the gate opens, so the first streams stay open.
    private static func heldUpstream(_ gate: TestGate) throws -> RawUpstream {
        try RawUpstream { conn in
            while conn.readRequest() != nil {
                gate.wait()
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
    }

    private static func stack(_ upstream: RawUpstream) throws -> TestStack {
        try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { c in
            c.upstreams[0].connectTimeout = .seconds(20)
            c.upstreams[0].responseTimeout = .seconds(30)
        }
    }

    @Test func streamsOverTheLimitInTheFirstFlightAreRefusedWhileTheOthersComplete() throws {
        let gate = TestGate()
        let upstream = try Self.heldUpstream(gate)
        defer { upstream.stop() }
        let stack = try Self.stack(upstream)
        defer { stack.stop() }
        // The client has not seen the server's SETTINGS yet, so it does not hold back any of these.
        let d = try H2Driver(port: stack.port, peerMaxConcurrentStreams: 1000)
        let ids = (0..<(Self.limit + 5)).map { i in d.client.request(h2Get("/public/c/\(i)")) }
        d.raw.send(d.client.produce())

        let excess = Array(ids.suffix(5))
        #expect(d.pump { excess.allSatisfy { d.client.responses[$0]?.closed == true } && upstream.requests == Self.limit })
        for id in excess {
            #expect(d.client.responses[id]?.resetReceived == HTTP2ErrorCode.refusedStream, "stream \(id)")
            #expect(d.client.responses[id]?.status == nil)
        }
        gate.open()
        let admitted = Array(ids.prefix(Self.limit))
        #expect(d.pump { admitted.allSatisfy { d.client.responses[$0]?.endStreamReceived == true } })
        for id in admitted {
            #expect(d.client.responses[id]?.status == 200, "stream \(id)")
            #expect(d.client.responses[id]?.body == Array("ok".utf8))
        }
        #expect(upstream.requests == Self.limit)
        #expect(d.client.goAways.isEmpty)
        #expect(!d.peerClosed)
    }

    @Test func aStreamOverTheAcknowledgedLimitEndsTheConnectionWithProtocolError() throws {
        let gate = TestGate()
        let upstream = try Self.heldUpstream(gate)
        defer {
            gate.open()
            upstream.stop()
        }
        let stack = try Self.stack(upstream)
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        // The server's SETTINGS arrived (and `pump` sent our acknowledgement on its way out).
        #expect(d.pump { d.client.serverEnablesConnectProtocol })
        #expect(d.client.serverMaxConcurrentStreams == UInt32(Self.limit))
        let ids = (0..<Self.limit).map { i in d.client.request(h2Get("/public/c/\(i)")) }
        #expect(d.pump { upstream.requests == Self.limit })
        let lastAdmitted = try #require(ids.last)

        // nghttp2's client would queue this one; it goes out by hand.
        d.raw.send(HTTP2RawFrame.headers(streamID: lastAdmitted + 2, fields: h2Get("/public/excess"), endStream: true))
        #expect(d.pump { !d.client.goAways.isEmpty })
        #expect(d.client.goAways.first?.errorCode == HTTP2ErrorCode.protocolError)
        #expect(d.client.goAways.first?.lastStreamID == lastAdmitted)
        #expect(d.pump { d.peerClosed })
        #expect(upstream.requests == Self.limit, "the excess stream never reaches the upstream")
    }
}
