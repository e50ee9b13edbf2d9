#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import GatewayCore

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
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now() + .nanoseconds(Int(tick.nanoseconds)), repeating: .nanoseconds(Int(tick.nanoseconds)), leeway: .milliseconds(5))
        t.setEventHandler { [weak self] in self?.runTimers() }
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

    /// Monotonic nanoseconds now.
    @inline(__always)
    public func now() -> UInt64 { SystemClock().monotonicNanos() }

    private func runTimers() {
        wheel.advance(to: now())
    }

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
