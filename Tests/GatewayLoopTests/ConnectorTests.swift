import Dispatch
import GatewayCore
import GatewayLoop
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Connector")
struct ConnectorTests {
    /// A blocking listening socket on 127.0.0.1:0 whose accept gives up after 5 s.
    static func rawListener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = RawSocket.loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, len) == 0 && listen(fd, 4) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard fd >= 0, ok else { throw RawSocket.Failure(description: "raw listener: errno \(errno)") }
        RawSocket.setReceiveTimeout(fd, seconds: 5)
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    @Test("connects to a listening port and the channel carries bytes", arguments: [EventLoop.Readiness.multiplexed, .perConnectionSources])
    func connects(readiness: EventLoop.Readiness) throws {
        let loop = EventLoop(index: 40, readiness: readiness)
        defer { loop.shutdown() }
        let (lfd, port) = try Self.rawListener()
        defer { close(lfd) }
        let target = try SocketAddress(parsing: "127.0.0.1:\(port)")
        let outcome = Recorder<String>()
        let done = EventCounter()
        loop.queue.sync {
            Connector.connect(to: target, loop: loop) { result in
                #expect(loop.inLoop)
                switch result {
                case .success(let channel):
                    let hello = Array("hello".utf8)
                    let r = hello.withUnsafeBytes { try? channel.write($0) }
                    if case .processed(5) = r { outcome.append("connected, wrote 5") } else { outcome.append("write: \(String(describing: r))") }
                    channel.close()
                case .failure(let error):
                    outcome.append("failed: \(error)")
                }
                done.record()
            }
        }
        #expect(done.wait(seconds: 5))
        #expect(outcome.all == ["connected, wrote 5"])
        let server = accept(lfd, nil, nil)
        #expect(server >= 0)
        defer { close(server) }
        RawSocket.setReceiveTimeout(server, seconds: 5)
        #expect(RawSocket.receive(server, count: 5) == Array("hello".utf8))
        #expect(RawSocket.seesEOF(server))
    }

    @Test("a port nobody listens on fails with ECONNREFUSED", arguments: [EventLoop.Readiness.multiplexed, .perConnectionSources])
    func refused(readiness: EventLoop.Readiness) throws {
        let loop = EventLoop(index: 41, readiness: readiness)
        defer { loop.shutdown() }
        // Bound but not listening: the port stays ours (nobody else can take it) and refuses connections.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = RawSocket.loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0 }
        }
        #expect(bound)
        let target = try SocketAddress(parsing: "127.0.0.1:\(Int(UInt16(bigEndian: addr.sin_port)))")
        let errors = Recorder<Int32>()
        let done = EventCounter()
        loop.queue.sync {
            Connector.connect(to: target, loop: loop) { result in
                switch result {
                case .success(let channel):
                    channel.close()
                    errors.append(0)
                case .failure(let error):
                    #expect(error.function == "connect")
                    errors.append(error.errno)
                }
                done.record()
            }
        }
        #expect(done.wait(seconds: 5))
        #expect(errors.all == [ECONNREFUSED])
    }

    @Test("connects over IPv6 loopback")
    func connectsV6() throws {
        let group = EventLoopGroup(loopCount: 1)
        let loop = group.loops[0]
        defer { loop.shutdown() }
        let listener = try Listener(address: SocketAddress(parsing: "[::1]:0"), group: group)
        let accepted = EventCounter()
        listener.start { fd, _, _ in
            close(fd)
            accepted.record()
        }
        defer { listener.stop() }
        let target = try SocketAddress(parsing: "[::1]:\(listener.port)")
        let outcome = Recorder<Bool>()
        let done = EventCounter()
        loop.queue.sync {
            Connector.connect(to: target, loop: loop) { result in
                if case .success(let channel) = result {
                    outcome.append(true)
                    channel.close()
                } else {
                    outcome.append(false)
                }
                done.record()
            }
        }
        #expect(done.wait(seconds: 5))
        #expect(outcome.all == [true])
        #expect(accepted.wait(seconds: 5))
    }
}
