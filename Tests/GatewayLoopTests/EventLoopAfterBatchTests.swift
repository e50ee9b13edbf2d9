import Dispatch
import GatewayCore
import GatewayLoop
import Testing

/// `EventLoop.afterBatch` outside a batch of socket events (a timer, a queued block): the work still runs, once
/// per request, from a block queued behind the current one.
@Suite("EventLoop.afterBatch")
struct EventLoopAfterBatchTests {
    final class Finisher: LoopBatchFinisher, Sendable {
        let runs = EventCounter()
        func finishBatch() { runs.record() }
    }

    @Test("asked from a queued block, each request runs once, after that block")
    func outsideABatch() {
        let loop = EventLoop(index: 30)
        defer { loop.shutdown() }
        let first = Finisher()
        let second = Finisher()
        let ranInsideBlock = loop.queue.sync {
            loop.afterBatch(first)
            loop.afterBatch(second)
            loop.afterBatch(first)
            return first.runs.value + second.runs.value
        }
        #expect(ranInsideBlock == 0)
        #expect(first.runs.wait(seconds: 5))
        #expect(first.runs.wait(seconds: 5))
        #expect(second.runs.wait(seconds: 5))
        #expect(first.runs.stays(at: 2, seconds: 0.3))
        #expect(second.runs.value == 1)
    }

    @Test("a finisher that asks again during the run is run in the same pass")
    func chained() {
        let loop = EventLoop(index: 31)
        defer { loop.shutdown() }
        final class Chain: LoopBatchFinisher, @unchecked Sendable {
            let loop: EventLoop
            let next: Finisher
            init(loop: EventLoop, next: Finisher) { self.loop = loop; self.next = next }
            func finishBatch() { loop.afterBatch(next) }
        }
        let tail = Finisher()
        let chain = Chain(loop: loop, next: tail)
        loop.queue.sync { loop.afterBatch(chain) }
        #expect(tail.runs.wait(seconds: 5))
        #expect(tail.runs.stays(at: 1, seconds: 0.3))
    }
}
