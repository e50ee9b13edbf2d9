#if canImport(Glibc)
import Glibc
#endif
private import CEpoll
import Dispatch
import GatewayCore

/// One epoll set per loop, watched by a single Dispatch read source on the loop's queue.
///
/// Per-connection Dispatch sources on Linux cost, per event, two `epoll_ctl` (disarm and re-arm), a FIONREAD
/// `ioctl`, an eventfd write to the manager thread and a thread wake-up (strace of the proxy: 4 epoll_ctl and
/// 2 ioctl per proxied request). Multiplexing a loop's sockets here pays that once per batch of ready sockets;
/// interest changes only when a connection's back-pressure state changes.
final class Poller {
    private let epfd: Int32
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
        events = .allocate(capacity: capacity)
        let s = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        // Strong: the source keeps the poller alive until `shutdown()` cancels it, so a round already running on
        // the queue when the loop is released finishes on live memory. The descriptor is closed only once
        // Dispatch has let go of it (the cancel handler), as Dispatch requires.
        s.setEventHandler { self.poll() }
        s.setCancelHandler { Glibc.close(fd) }
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

    /// Rounds of `epoll_wait` per wake-up. Sockets that became ready while a round was handled (upstream
    /// answers, more client frames) are taken in the next round, saving the Dispatch source a re-arm and the
    /// manager thread a wake-up; the bound leaves the queue's other sources (timers, accepts) their turn.
    static let roundsPerWakeUp = 4

    private func poll() {
        for _ in 0..<Self.roundsPerWakeUp {
            let n = epoll_wait(epfd, events, Int32(capacity), 0)
            guard n > 0 else { return }
            wheel.roundNanos = SystemClock().monotonicNanos()
            defer { wheel.roundNanos = 0 }
            handling = true
            for i in 0..<Int(n) {
                let ev = events[i]
                let fd = Int(ev.data.fd)
                guard fd < table.count, let ch = table[fd] else { continue }
                ch.ready(events: ev.events)
            }
            handling = false
            if !finishers.list.isEmpty { finishers.run() }
        }
    }
}
