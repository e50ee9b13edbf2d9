import Foundation
@testable import GatewayHTTP2
import HTTP2TestSupport
import Testing

/// SIGTERM drain as an HTTP/2 client sees it: GOAWAY, in-flight streams finish, new ones are not taken.
@Suite(.serialized)
struct HTTP2DrainTests {
    @Test func drainSendsGoAwayFinishesTheInFlightStreamAndTakesNoNewOne() throws {
        let gate = TestGate()
        let upstream = try RawUpstream { conn in
            while conn.readRequest() != nil {
                gate.wait()
                conn.send("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nslow done")
            }
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"]) { c in
            c.upstreams[0].responseTimeout = .seconds(30)
        }
        defer { stack.stop() }
        let d = try H2Driver(port: stack.port)
        let id = d.client.request(h2Get("/public/slow"))
        #expect(d.pump { upstream.requests == 1 })

        // What SIGTERM does in the process (GatewayProcess -> GatewayServer.drain).
        let drained = DispatchSemaphore(value: 0)
        stack.gateway.drain(timeout: .seconds(30)) { drained.signal() }

        // Graceful: a shutdown notice (last-stream-id 2^31-1) and, one PING round trip later, the final GOAWAY.
        let isFinal: ((lastStreamID: Int32, errorCode: UInt32)) -> Bool = { $0.lastStreamID != Int32.max }
        #expect(d.pump { d.client.goAways.contains(where: isFinal) })
        let final = try #require(d.client.goAways.first(where: isFinal))
        #expect(final.lastStreamID >= id)
        #expect(final.errorCode == HTTP2ErrorCode.noError)
        #expect(d.client.goAways.allSatisfy { $0.errorCode == HTTP2ErrorCode.noError })
        #expect(d.client.responses[id]?.status == nil, "the slow stream is still in flight")

        // A stream opened after the final GOAWAY: nghttp2's client would refuse it locally, so it goes out by hand.
        let late = id + 2
        d.raw.send(HTTP2RawFrame.headers(streamID: late, fields: h2Get("/public/late"), endStream: true))

        gate.open()
        #expect(d.pump { d.client.responses[id]?.endStreamReceived == true })
        #expect(d.client.responses[id]?.status == 200)
        #expect(d.client.responses[id]?.body == Array("slow done".utf8))
        #expect(d.client.responses[id]?.resetReceived == nil)

        // The connection ends after its last stream; the late stream got nothing and never reached the upstream.
        #expect(d.pump { d.peerClosed })
        #expect(d.client.responses[late] == nil)
        #expect(upstream.requests == 1, "heads: \(upstream.receivedHeads)")
        #expect(late > final.lastStreamID)
        #expect(drained.wait(timeout: .now() + 20) == .success)
    }
}
