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
    private var finishers: [any LoopBatchFinisher] = []
    private var finisherRunQueued = false

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
        poller = readiness == .multiplexed ? try? Poller(queue: queue) : nil
        poller?.batchEnded = { [unowned self] in self.runFinishers() }
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

    /// Runs `work` on this loop, later.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        queue.async(execute: work)
    }

    /// Calls `f.finishBatch()` once the socket events being handled now are all done; outside such a batch (a
    /// timer, a queued block, per-socket sources), from a block queued next. Cheaper than a block per call: the
    /// common case appends to an array.
    public func afterBatch(_ f: any LoopBatchFinisher) {
        assertInLoop()
        finishers.append(f)
        if poller?.handling == true || finisherRunQueued { return }
        finisherRunQueued = true
        queue.async { self.runFinishers() }
    }

    private func runFinishers() {
        finisherRunQueued = false
        guard !finishers.isEmpty else { return }
        // Index loop: a finisher may queue another (it runs in this pass too).
        var i = 0
        while i < finishers.count {
            let f = finishers[i]
            i += 1
            f.finishBatch()
        }
        finishers.removeAll(keepingCapacity: true)
    }

    /// Monotonic nanoseconds now.
    @inline(__always)
    public func now() -> UInt64 { SystemClock().monotonicNanos() }

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
