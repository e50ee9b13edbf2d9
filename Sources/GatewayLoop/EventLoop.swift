#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import GatewayCore

/// Work a connection wants done once the loop has handled the socket events at hand (its output flush, say):
/// everything that became ready in one wake-up is gathered first, then leaves together.
public protocol LoopBatchFinisher: AnyObject {
    func finishBatch()
}

/// The loop's after-batch work: filled by `EventLoop.afterBatch`, run by the poller after each round (or by a
/// queued block outside one). Touched only on the loop's queue.
final class BatchFinishers: @unchecked Sendable {
    var list: [any LoopBatchFinisher] = []
    var runQueued = false

    func run() {
        runQueued = false
        guard !list.isEmpty else { return }
        // Index loop: a finisher may queue another (it runs in this pass too).
        var i = 0
        while i < list.count {
            let f = list[i]
            i += 1
            f.finishBatch()
        }
        list.removeAll(keepingCapacity: true)
    }
}

/// One serial queue with the sources registered on it; everything a connection owns is touched only here.
public final class EventLoop: @unchecked Sendable {
    public let queue: DispatchQueue
    public let index: Int
    let wheel: TimerWheel
    private var tickSource: DispatchSourceTimer?
    private let key = DispatchSpecificKey<Int>()
    /// A per-loop scratch buffer for socket reads; its bytes are valid only until the next read on this loop.
    public let readBuffer: UnsafeMutableRawBufferPointer
    /// The epoll set behind this loop's single readiness source (nil with per-connection Dispatch sources).
    let poller: Poller?
    /// Shared with the poller, which runs it after each round: the poller never calls back into the loop, so a
    /// loop released while its queue is still handling a round (tests do this) leaves nothing dangling.
    let finishers = BatchFinishers()

    /// How sockets on a loop learn they are ready.
    public enum Readiness: Sendable {
        /// One epoll set per loop behind one Dispatch read source (default: far fewer syscalls and wake-ups per event).
        case multiplexed
        /// A Dispatch read source per socket (and a write source while a write waits).
        case perConnectionSources
    }

    public init(index: Int, tick: TimeSpan = .milliseconds(50), readiness: Readiness = .multiplexed) {
        self.index = index
        queue = DispatchQueue(label: "session-gateway.loop.\(index)", qos: .userInitiated)
        queue.setSpecific(key: key, value: index)
        wheel = TimerWheel(tickNanos: UInt64(tick.nanoseconds), now: SystemClock().monotonicNanos())
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 128 * 1024, alignment: 16)
        poller = readiness == .multiplexed ? try? Poller(queue: queue, finishers: finishers, wheel: wheel) : nil
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now() + .nanoseconds(Int(tick.nanoseconds)), repeating: .nanoseconds(Int(tick.nanoseconds)), leeway: .milliseconds(5))
        // Captures the wheel, not the loop: a weak reference would give the loop a side table and put every
        // retain of it (each timer arm) on the runtime's slow path.
        t.setEventHandler { [wheel] in wheel.advance(to: SystemClock().monotonicNanos()) }
        t.resume()
        tickSource = t
    }

    deinit {
        tickSource?.cancel()
        poller?.shutdown()
        readBuffer.deallocate()
    }

    /// Whether the caller runs on this loop's queue.
    public var inLoop: Bool { DispatchQueue.getSpecific(key: key) == index }

    @inline(__always)
    public func assertInLoop() {
        #if DEBUG
        dispatchPrecondition(condition: .onQueue(queue))
        #endif
    }

    /// Runs `work` on this loop, later (a poller lingering for socket events stops to let it run).
    public func execute(_ work: @escaping @Sendable () -> Void) {
        guard let poller else {
            queue.async(execute: work)
            return
        }
        queue.async {
            work()
            poller.workRan()
        }
        poller.workQueued()
    }

    /// Calls `f.finishBatch()` once the socket events being handled now are all done; outside such a batch (a
    /// timer, a queued block, per-socket sources), from a block queued next. Cheaper than a block per call: the
    /// common case appends to an array.
    public func afterBatch(_ f: any LoopBatchFinisher) {
        assertInLoop()
        finishers.list.append(f)
        if poller?.handling == true || finishers.runQueued { return }
        finishers.runQueued = true
        queue.async { [finishers, poller] in
            finishers.run()
            poller?.workRan()
        }
        poller?.workQueued()
    }

    /// Monotonic nanoseconds now; while the poller handles a round of ready sockets, the time that round began
    /// (what nginx does once per event-loop pass): timestamps and timer arms of one round share one clock read.
    @inline(__always)
    public func now() -> UInt64 { wheel.now() }

    /// Stops the timer tick (the loop is being retired).
    public func shutdown() {
        tickSource?.cancel()
        tickSource = nil
    }
}

/// A group of loops, one per core by default; connections are spread over them.
public final class EventLoopGroup: @unchecked Sendable {
    public let loops: [EventLoop]
    private var nextIndex = 0
    private let lock = NSLockLike()

    public init(loopCount: Int = 0, readiness: EventLoop.Readiness = .multiplexed) {
        let n = loopCount > 0 ? loopCount : max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        loops = (0..<n).map { EventLoop(index: $0, readiness: readiness) }
    }

    /// The next loop, round robin.
    public func next() -> EventLoop {
        lock.withLock {
            let l = loops[nextIndex % loops.count]
            nextIndex &+= 1
            return l
        }
    }
}
