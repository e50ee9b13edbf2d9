import Foundation
import GatewayConfig
@testable import GatewayHTTP2
import Testing

/// Debug builds count the client connections, HTTP/2 streams and exchanges alive on each loop. A stream holds its
/// connection strongly, and transports hold their connection's callbacks strongly, so each cycle must be broken by
/// the code that ends it; after traffic that ends in every way (answered, rejected, upstream refused, upstream
/// silent, client gone mid-exchange), nothing may stay alive.
@Suite struct LiveObjectsTests {
    @Test func nothingOutlivesItsTraffic() throws {
        let silent = try RawUpstream { conn in
            _ = conn.readHead()
            conn.waitForClose()
        }
        defer { silent.stop() }
        let stack = try TestStack { c in
            c.replay.mode = .off
            var dead = UpstreamConfig(name: "dead", servers: ["127.0.0.1:1"])
            dead.connectTimeout = .milliseconds(300)
            var slow = UpstreamConfig(name: "slow", servers: ["127.0.0.1:\(silent.port)"])
            slow.responseTimeout = .milliseconds(300)
            c.upstreams += [dead, slow]
            c.routes.insert(RouteConfig(pathPrefix: "/dead", upstream: "dead", auth: .required), at: 0)
            c.routes.insert(RouteConfig(pathPrefix: "/slow", upstream: "slow", auth: .required), at: 0)
        }
        defer { stack.stop() }
        let token = H2Tokens.good()
        let base = "http://127.0.0.1:\(stack.port)"

        for (path, auth, requests, expected) in [("/load", token, 300, "300 2xx, 0 3xx, 0 4xx, 0 5xx"),
                                                 ("/load", "not.a.token", 100, "0 2xx, 0 3xx, 100 4xx, 0 5xx"),
                                                 ("/dead/x", token, 20, "0 2xx, 0 3xx, 0 4xx, 20 5xx"),
                                                 ("/slow/x", token, 20, "0 2xx, 0 3xx, 0 4xx, 20 5xx")] {
            let r = try runProcess(tool("h2load"), ["-n", "\(requests)", "-c", "2", "-m", "10",
                                                    "-H", "Authorization: Bearer \(auth)", base + path])
            #expect(r.stdout.contains("status codes: \(expected)"), "\(path): \(r.stdout)")
        }
        // Clients that give up while the upstream is still silent, over HTTP/2 and HTTP/1.1.
        for args in [["--http2-prior-knowledge"], ["--http1.1"]] {
            _ = try runProcess(tool("curl"), ["-s", "-o", "/dev/null", "--max-time", "0.1",
                                              "-H", "Authorization: Bearer \(token)"] + args + [base + "/slow/y"])
        }
        // HTTP/1.1 keep-alive: answered, forwarded, then closed by the client.
        let client = try RawClient(port: stack.port)
        client.send(httpRequest("GET", "/load/1", token: token))
        #expect(client.readResponse()?.status == 200)
        client.send(httpRequest("GET", "/load/2"))
        #expect(client.readResponse()?.status == 401)
        // The counters see what is open.
        #expect(stack.gateway.liveObjects()["http1Connection", default: 0] >= 1)
        client.shutdownWrite()
        _ = client.readAll(timeout: 2)

        // Pooled upstream connections stay by design; everything tied to a client must go. Disarmed connect timers
        // may hold an exchange until their deadline (300 ms to 1 s here), hence the wait.
        let alive = Self.aliveAfterTraffic(stack)
        #expect(alive.isEmpty, "still alive: \(alive)")
    }

    /// A tunnel's exchange and its client side (connection or stream) hold each other: whichever end closes the
    /// tunnel, over HTTP/1.1 or HTTP/2 extended CONNECT, both must go.
    @Test func tunnelsLeaveNothingBehind() throws {
        // Echoes each message; after "bye" it closes the tunnel itself, otherwise it waits for the client to close.
        let upstream = try RawUpstream { conn in
            guard conn.readHead() != nil else { return }
            conn.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n")
            while true {
                let b = conn.readSome()
                if b.isEmpty { return }
                conn.send(Array("echo:".utf8) + b)
                if b == Array("bye".utf8) { return }
            }
        }
        defer { upstream.stop() }
        let stack = try TestStack(upstreamServers: ["127.0.0.1:\(upstream.port)"])
        defer { stack.stop() }

        for message in ["hello", "bye"] {
            let c = try RawClient(port: stack.port)
            c.send("GET /ws HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(Tok.valid())\r\nConnection: Upgrade\r\n"
                   + "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            #expect(c.readResponse()?.status == 101)
            c.send(message)
            // After "bye" the upstream closes, and the gateway closes the client: read to the end.
            let echoed = message == "bye" ? c.readAll(timeout: 5) : c.read(count: 5 + message.utf8.count)
            #expect(String(decoding: echoed, as: UTF8.self) == "echo:" + message)
        }
        for message in ["hello", "bye"] {
            let d = try H2Driver(port: stack.port)
            #expect(d.pump { d.client.serverEnablesConnectProtocol })
            let id = d.client.request(webSocketConnectFields(path: "/ws", token: H2Tokens.good()), keepOpen: true)
            #expect(d.pump { d.client.responses[id]?.status != nil })
            #expect(d.client.responses[id]?.status == 200)
            d.client.send(streamID: id, Array(message.utf8), end: false)
            #expect(d.pump { (d.client.responses[id]?.body.count ?? 0) >= 5 + message.utf8.count })
            if message == "bye" {
                #expect(d.pump { d.client.responses[id].map { $0.endStreamReceived || $0.resetReceived != nil } ?? false })
            }
        }

        let alive = Self.aliveAfterTraffic(stack)
        #expect(alive.isEmpty, "still alive: \(alive)")
    }

    /// The objects still alive once the traffic is gone, after up to 10 s: pooled upstream connections stay by design
    /// and are left out; disarmed connect timers may hold an exchange until their deadline.
    static func aliveAfterTraffic(_ stack: TestStack) -> [String: Int] {
        var alive: [String: Int] = [:]
        for _ in 0..<100 {
            alive = stack.gateway.liveObjects().filter { $0.key != "upstreamConnection" }
            if alive.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return alive
    }
}
