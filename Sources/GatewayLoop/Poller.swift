#if canImport(Glibc)
import Glibc
#endif
private import CEpoll
import Dispatch
import GatewayCore
import Synchronization

/// One epoll set per loop, watched by a single Dispatch read source on the loop's queue.
///
/// Per-connection Dispatch sources on Linux cost, per event, two `epoll_ctl` (disarm and re-arm), a FIONREAD
/// `ioctl`, an eventfd write to the manager thread and a thread wake-up (strace of the proxy: 4 epoll_ctl and
/// 2 ioctl per proxied request). Multiplexing a loop's sockets here pays that once per batch of ready sockets;
/// interest changes only when a connection's back-pressure state changes.
///
/// While busy, a wake-up lingers: after a round that found ready sockets, the next `epoll_wait` blocks up to
/// `lingerMillis` for more instead of handing the queue back to Dispatch, whose next wake-up goes through its
/// manager thread, a re-arm and a worker hand-off. Work queued on the loop (`EventLoop.execute`: accepted
/// connections, replay-store answers, reloads) ends the linger at once through `wakeFD`, and `maxLingerNanos`
/// bounds what the queue's own sources (the timer tick) wait.
///
/// Unchecked `Sendable`: apart from the two atomics (`workQueued` may come from any thread), it is touched only
/// on the loop's queue.
final class Poller: @unchecked Sendable {
    private let epfd: Int32
    /// An eventfd in the epoll set: written when work is queued on the loop while a round lingers.
    private let wakeFD: Int32
    /// Blocks queued on the loop with `EventLoop.execute` (from any thread) and those of them that have run (on
    /// the loop only): a round lingers only while none is waiting.
    private let queued = Atomic<Int>(0)
    private var ran = 0
    /// Rounds that blocked waiting for sockets, and lingers a queued block cut short (for tests and debugging).
    private(set) var lingers = 0
    private(set) var wakeUps = 0
    /// True while `poll` may block in `epoll_wait`; whoever queues work then writes `wakeFD`.
    private let lingering = Atomic<Bool>(false)
    private var source: DispatchSourceRead?
    private var table: [SocketChannel?] = []
    private var events: UnsafeMutablePointer<epoll_event>
    private let capacity = 256
    /// True while ready sockets of one `epoll_wait` are being handled.
    private(set) var handling = false
    /// The loop's after-batch work, run once the sockets of a round are all handled.
    private let finishers: BatchFinishers
    /// The loop's timers and round clock.
    private let wheel: TimerWheel

    init(queue: DispatchQueue, finishers: BatchFinishers, wheel: TimerWheel) throws(IOError) {
        self.finishers = finishers
        self.wheel = wheel
        var fd: Int32 = -1
        try Syscall.blocking("epoll_create1") {
            fd = epoll_create1(Int32(EPOLL_CLOEXEC))
            return fd
        }
        epfd = fd
        var efd: Int32 = -1
        do {
            try Syscall.blocking("eventfd") {
                efd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
                return efd
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        wakeFD = efd
        var ev = epoll_event()
        ev.events = Epoll.input
        ev.data.fd = efd
        epoll_ctl(fd, EPOLL_CTL_ADD, efd, &ev)
        events = .allocate(capacity: capacity)
        let s = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        // Strong: the source keeps the poller alive until `shutdown()` cancels it, so a round already running on
        // the queue when the loop is released finishes on live memory. The descriptor is closed only once
        // Dispatch has let go of it (the cancel handler), as Dispatch requires.
        s.setEventHandler { self.poll() }
        s.setCancelHandler {
            Glibc.close(fd)
            Glibc.close(efd)
        }
        s.resume()
        source = s
    }

    deinit {
        events.deallocate()
    }

    /// Stops watching (the loop is gone): the source's handlers, and with them this poller, are released.
    func shutdown() {
        source?.cancel()
        source = nil
    }

    /// Sets the events `channel` wants (EPOLLIN and/or EPOLLOUT); 0 removes it from the set.
    func update(_ channel: SocketChannel, interest: UInt32, registered: inout Bool) {
        let fd = Int(channel.fd)
        if fd >= table.count { table.append(contentsOf: repeatElement(nil, count: fd - table.count + 64)) }
        var ev = epoll_event()
        // Peer half-close matters only to a reader; reported while reading is paused it would spin (level-triggered).
        ev.events = interest & Epoll.input != 0 ? interest | Epoll.peerHangUp : interest
        ev.data.fd = channel.fd
        if interest == 0 {
            if registered {
                epoll_ctl(epfd, EPOLL_CTL_DEL, channel.fd, &ev)
                registered = false
            }
            table[fd] = nil
            return
        }
        table[fd] = channel
        if registered {
            epoll_ctl(epfd, EPOLL_CTL_MOD, channel.fd, &ev)
        } else {
            epoll_ctl(epfd, EPOLL_CTL_ADD, channel.fd, &ev)
            registered = true
        }
    }

    func forget(_ channel: SocketChannel, registered: inout Bool) {
        update(channel, interest: 0, registered: &registered)
    }

    /// Rounds of `epoll_wait` per wake-up at most. Sockets that became ready while a round was handled (upstream
    /// answers, more client frames) are taken in the next round, saving the Dispatch source a re-arm and the
    /// manager thread a wake-up.
    static let maxRoundsPerWakeUp = 64
    /// How long one lingering `epoll_wait` blocks (its unit is the millisecond).
    static let lingerMillis: Int32 = 1
    /// After this long in one wake-up, rounds stop lingering and the queue goes back to Dispatch (the 50 ms timer
    /// tick is its only other regular work).
    static let maxLingerNanos: UInt64 = 5_000_000

    /// A block queued by `workQueued` has run (called on the loop).
    func workRan() { ran &+= 1 }

    /// Called after a block was queued on the loop (from any thread): a lingering round stops waiting for it.
    func workQueued() {
        queued.add(1, ordering: .sequentiallyConsistent)
        if lingering.load(ordering: .sequentiallyConsistent) {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    private func poll() {
        var start: UInt64 = 0
        var timeout: Int32 = 0
        for _ in 0..<Self.maxRoundsPerWakeUp {
            if timeout != 0 {
                // Whoever queues work after this store sees it and wakes us; work queued before it shows in `queued`.
                lingering.store(true, ordering: .sequentiallyConsistent)
                if queued.load(ordering: .sequentiallyConsistent) != ran {
                    lingering.store(false, ordering: .sequentiallyConsistent)
                    return
                }
            }
            let n = epoll_wait(epfd, events, Int32(capacity), timeout)
            if timeout != 0 {
                lingering.store(false, ordering: .sequentiallyConsistent)
                lingers &+= 1
            }
            guard n > 0 else { return }
            let now = SystemClock().monotonicNanos()
            if start == 0 { start = now }
            wheel.roundNanos = now
            defer { wheel.roundNanos = 0 }
            handling = true
            var woken = false
            for i in 0..<Int(n) {
                let ev = events[i]
                if ev.data.fd == wakeFD {
                    var count: UInt64 = 0
                    _ = Glibc.read(wakeFD, &count, 8)
                    woken = true
                    wakeUps &+= 1
                    continue
                }
                let fd = Int(ev.data.fd)
                guard fd < table.count, let ch = table[fd] else { continue }
                ch.ready(events: ev.events)
            }
            handling = false
            if !finishers.list.isEmpty { finishers.run() }
            // Queued work runs once this wake-up ends: it ends now.
            if woken || queued.load(ordering: .relaxed) != ran { return }
            timeout = now &- start < Self.maxLingerNanos ? Self.lingerMillis : 0
        }
    }
}
