import Dispatch
import GatewayCore
import GatewayLoop
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One accepted connection as the accept handler saw it.
struct AcceptRecord: Sendable {
    var loopIndex: Int
    var onItsLoop: Bool
    var peer: String
    var peerPort: Int
    var peerFamily: Int32
}

@Suite("Listener")
struct ListenerTests {
    @Test("binds port 0, knows its port at once, and hands accepted sockets to the loops round robin",
          arguments: ["127.0.0.1:0", "[::1]:0"])
    func acceptsOnLoops(address: String) throws {
        let v6 = address.hasPrefix("[")
        let group = EventLoopGroup(loopCount: 2)
        defer { for loop in group.loops { loop.shutdown() } }
        let listener = try Listener(address: SocketAddress(parsing: address), group: group)
        #expect(listener.port > 0)
        #expect(listener.address.port == listener.port)
        #expect(listener.address.family == (v6 ? AF_INET6 : AF_INET))
        #expect(listener.address.ipString == (v6 ? "::1" : "127.0.0.1"))

        let records = Recorder<AcceptRecord>()
        let accepted = EventCounter()
        listener.start { fd, peer, loop in
            records.append(AcceptRecord(loopIndex: loop.index, onItsLoop: loop.inLoop, peer: peer.ipString,
                                        peerPort: peer.port, peerFamily: peer.family))
            // The descriptor is ours now: answer and close it.
            let hi = Array("hi".utf8)
            _ = hi.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(fd)
            accepted.record()
        }
        let connect = v6 ? RawSocket.connectBlocking6 : RawSocket.connectBlocking
        let c1 = try connect(listener.port)
        defer { close(c1) }
        let c2 = try connect(listener.port)
        defer { close(c2) }
        #expect(accepted.wait(until: 2))

        let seen = records.all
        #expect(seen.map(\.loopIndex).sorted() == [0, 1])
        #expect(seen.allSatisfy { $0.onItsLoop })
        #expect(seen.allSatisfy { $0.peer == (v6 ? "::1" : "127.0.0.1") })
        #expect(seen.allSatisfy { $0.peerFamily == (v6 ? AF_INET6 : AF_INET) })
        #expect(Set(seen.map(\.peerPort)) == [RawSocket.localPort(c1), RawSocket.localPort(c2)])
        #expect(RawSocket.receive(c1, count: 2) == Array("hi".utf8))
        #expect(RawSocket.seesEOF(c1))

        // stop closes the listening socket: new connections are refused.
        listener.stop()
        let port = listener.port
        let refused = waitUntil {
            guard let fd = try? connect(port) else { return true }
            close(fd)
            return false
        }
        #expect(refused)
    }

    @Test("binding an address already in use fails with EADDRINUSE")
    func addressInUse() throws {
        let group = EventLoopGroup(loopCount: 1)
        defer { for loop in group.loops { loop.shutdown() } }
        let first = try Listener(address: SocketAddress(parsing: "127.0.0.1:0"), group: group)
        // Started before it is released: a Listener dropped without start() crashes libdispatch (see the report).
        first.start { fd, _, _ in close(fd) }
        defer { first.stop() }
        do {
            _ = try Listener(address: SocketAddress(parsing: "127.0.0.1:\(first.port)"), group: group)
            Issue.record("a second listener bound the same port")
        } catch let error as IOError {
            #expect(error.errno == EADDRINUSE)
            #expect(error.function == "bind")
        }
    }
}
