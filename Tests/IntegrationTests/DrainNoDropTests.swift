import Foundation
import GatewayCore
import Testing

/// The drain drops no request: idle keep-alive connections wait a quiet period, and what arrives is answered with
/// `Connection: close` (it used to be closed at once: 26 of 64 requests on the wire got an EOF under load).
@Suite(.serialized) struct DrainNoDropTests {
    /// What one keep-alive client saw.
    struct Tally: Sendable {
        var connected = false
        var sent = 0
        var answered = 0
        var non200 = 0
        /// The last response said `Connection: close`, and the client stopped there.
        var endedOnClose = false
        /// A request went out and the connection ended without its response.
        var eofWithoutResponse = false
    }

    /// Every client's tally, shared with the client threads.
    final class Tallies: Sendable {
        let all: Locked<[Tally]>
        init(_ n: Int) { all = Locked([Tally](repeating: Tally(), count: n)) }
        func withLock<R>(_ body: (inout [Tally]) -> R) -> R { all.withLock { body(&$0) } }
    }

    /// Drains the gateway and waits for it, then stops the echo backend (the stack is not drained twice).
    private func drainAll(_ stack: TestStack, timeout: TimeSpan = .seconds(20)) -> DispatchSemaphore {
        let drained = DispatchSemaphore(value: 0)
        stack.gateway.drain(timeout: timeout) { drained.signal() }
        return drained
    }

    private func stopEcho(_ stack: TestStack) {
        let done = DispatchSemaphore(value: 0)
        stack.echo.drain(timeout: .milliseconds(100)) { done.signal() }
        done.wait()
    }

    @Test func anIdleKeepAliveConnectionAnswersARequestSentAfterTheDrainBegan() throws {
        let stack = try TestStack(loops: 1)
        let c = try RawClient(port: stack.port)
        c.send(httpRequest("GET", "/public/first"))
        let first = try #require(c.readResponse())
        #expect(first.status == 200)
        #expect(first.header("Connection") == nil)

        let drained = drainAll(stack)
        // flushLogs runs a block on the loop and waits for it: the drain's own block, queued first, has run.
        stack.gateway.flushLogs()
        c.send(httpRequest("GET", "/public/late"))
        let late = try #require(c.readResponse(), "a request sent to an idle connection during the drain got no answer")
        #expect(late.status == 200)
        #expect(late.header("Connection")?.lowercased() == "close")
        #expect(c.isClosedByPeer())
        #expect(drained.wait(timeout: .now() + 20) == .success)
        stopEcho(stack)
    }

    @Test func aDrainUnderLoadAnswersEveryRequestThatWasSent() throws {
        let stack = try TestStack { c in c.upstreams[0].responseTimeout = .seconds(20) }
        let clients = 64
        let port = stack.port
        let tallies = Tallies(clients)
        let finished = DispatchGroup()
        for i in 0..<clients {
            finished.enter()
            let t = Thread {
                defer { finished.leave() }
                guard let c = try? RawClient(port: port) else { return }
                tallies.withLock { $0[i].connected = true }
                // Back to back until the gateway says this is the last response; a guard against looping forever.
                for n in 0..<100_000 {
                    c.send(httpRequest("GET", "/public/c\(i)/r\(n)"))
                    tallies.withLock { $0[i].sent += 1 }
                    guard let r = c.readResponse(timeout: 30) else {
                        tallies.withLock { $0[i].eofWithoutResponse = true }
                        return
                    }
                    let close = r.header("Connection")?.lowercased() == "close"
                    tallies.withLock {
                        $0[i].answered += 1
                        if r.status != 200 { $0[i].non200 += 1 }
                        $0[i].endedOnClose = close
                    }
                    if close { return }
                }
            }
            t.start()
        }
        // Under load: every client has had a few answers before the drain starts.
        for _ in 0..<3000 where tallies.withLock({ $0.contains { $0.answered < 3 && !$0.eofWithoutResponse } }) {
            usleep(10_000)
        }
        let before = tallies.withLock { $0 }
        let going = before.allSatisfy { $0.answered >= 3 }
        #expect(going == true, "not all clients got going: \(before.map(\.answered))")

        let drained = drainAll(stack)
        #expect(finished.wait(timeout: .now() + 60) == .success, "clients still running")
        #expect(drained.wait(timeout: .now() + 30) == .success)
        stopEcho(stack)

        let after = tallies.withLock { $0 }
        let sent = after.reduce(0) { $0 + $1.sent }
        let answered = after.reduce(0) { $0 + $1.answered }
        let connected = after.allSatisfy { $0.connected }
        let endedOnClose = after.allSatisfy { $0.endedOnClose }
        #expect(connected == true)
        #expect(sent == answered, "sent \(sent), answered \(answered)")
        #expect(after.filter(\.eofWithoutResponse).count == 0, "EOF without a response on \(after.filter(\.eofWithoutResponse).count) of \(clients)")
        #expect(endedOnClose == true, "every connection ends on a response saying Connection: close")
        #expect(after.reduce(0) { $0 + $1.non200 } == 0)
    }
}
