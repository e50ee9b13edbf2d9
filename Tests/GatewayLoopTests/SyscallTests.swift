import GatewayCore
import GatewayLoop
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Syscall")
struct SyscallTests {
    @Test("EAGAIN on an empty non-blocking socket is .wouldBlock, not an error")
    func wouldBlock() throws {
        let (peer, local) = try RawSocket.tcpPair(fdFloor: 3000)
        defer {
            close(peer)
            close(local)
        }
        var buffer = [UInt8](repeating: 0, count: 16)
        let r = try buffer.withUnsafeMutableBytes { b in
            try Syscall.call("read") { Glibc.read(local, b.baseAddress, b.count) }
        }
        guard case .wouldBlock = r else {
            Issue.record("expected .wouldBlock, got \(r)")
            return
        }
        RawSocket.send(peer, "x")
        // Blocking peer write has landed once the data is readable; poll for it with a generous limit.
        var pfd = pollfd(fd: local, events: Int16(POLLIN), revents: 0)
        #expect(poll(&pfd, 1, 5000) == 1)
        let r2 = try buffer.withUnsafeMutableBytes { b in
            try Syscall.call("read") { Glibc.read(local, b.baseAddress, b.count) }
        }
        guard case .processed(1) = r2 else {
            Issue.record("expected .processed(1), got \(r2)")
            return
        }
    }

    @Test("other failures throw IOError with the errno and the function name")
    func ebadf() {
        var buffer = [UInt8](repeating: 0, count: 4)
        do {
            _ = try buffer.withUnsafeMutableBytes { b in
                try Syscall.call("read") { Glibc.read(-1, b.baseAddress, b.count) }
            }
            Issue.record("read(-1) did not throw")
        } catch let error as IOError {
            #expect(error.errno == EBADF)
            #expect(error.function == "read")
            #expect(error.description.hasPrefix("read: "))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        do {
            try Syscall.blocking("listen") { listen(-1, 1) }
            Issue.record("listen(-1) did not throw")
        } catch {
            #expect(error.errno == EBADF)
            #expect(error.function == "listen")
        }
    }

    @Test("EINTR is retried")
    func retriesEINTR() throws {
        var calls = 0
        let r = try Syscall.call("fake") {
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 7
        }
        #expect(calls == 3)
        guard case .processed(7) = r else {
            Issue.record("expected .processed(7), got \(r)")
            return
        }
        var blockingCalls = 0
        try Syscall.blocking("fake") {
            blockingCalls += 1
            if blockingCalls == 1 {
                errno = EINTR
                return -1
            }
            return 0
        }
        #expect(blockingCalls == 2)
    }

    @Test("accept on a listening socket with nothing pending is .wouldBlock")
    func acceptWouldBlock() throws {
        let fd = try Socket.listen(on: SocketAddress(parsing: "127.0.0.1:0"))
        defer { close(fd) }
        #expect(try Socket.localAddress(fd).port > 0)
        guard case .wouldBlock = try Socket.accept(fd) else {
            Issue.record("accept returned a connection on an idle listener")
            return
        }
    }
}
