#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import GatewayCore

/// A listening socket whose accepted connections are handed out to the group's loops, round robin.
///
/// Accepting runs on the first loop's queue; every mutable field below is touched only there (after `start`).
public final class Listener: @unchecked Sendable {
    public let address: SocketAddress
    private let fd: Int32
    private let source: DispatchSourceRead
    private let group: EventLoopGroup
    private var stopped = false
    private var started = false
    /// The loop whose queue runs the accept source, the pause timer and `stop`.
    private let acceptLoop: EventLoop
    private var acceptQueue: DispatchQueue { acceptLoop.queue }
    private var onAccept: AcceptHandler?
    private var onPause: PauseHandler?
    private var backoff = AcceptBackoff()
    /// True while the source is suspended after an `accept` that would only fail again (out of descriptors).
    private var paused = false
    /// Resumes the source once a pause is over; made in `start`, since its handler refers back to the listener.
    private var resumeTimer: LoopTimer?
    /// The accept call; a test swaps in one that fails, to drive the pause without exhausting real descriptors.
    var acceptCall: @Sendable (Int32) throws(IOError) -> IOResult<(Int32, SocketAddress)> = { fd throws(IOError) in
        try Socket.accept(fd)
    }

    /// Called on the chosen loop with the accepted descriptor and the client address.
    public typealias AcceptHandler = @Sendable (_ fd: Int32, _ peer: SocketAddress, _ loop: EventLoop) -> Void
    /// Called on the accepting loop when accepting pauses and a warning is due (at most once a second).
    public typealias PauseHandler = @Sendable (_ pause: AcceptPause) -> Void

    /// Binds `address` now (so the port is known, including for `:0`); accepting starts with `start`.
    public init(address: SocketAddress, group: EventLoopGroup, backlog: Int32 = 1024) throws(IOError) {
        fd = try Socket.listen(on: address, backlog: backlog)
        self.address = try Socket.localAddress(fd)
        self.group = group
        acceptLoop = group.loops[0]
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: group.loops[0].queue)
    }

    public var port: Int { address.port }

    deinit {
        // A Dispatch source that was never resumed traps when released ("Release of an inactive object"):
        // a listener bound but never started (a later bind failed) must still be activated to be cancelled.
        if !started {
            let fd = self.fd
            source.setCancelHandler { Glibc.close(fd) }
            source.cancel()
            source.resume()
        }
    }

    /// Starts accepting. The source's handler holds the listener, so a started listener runs until `stop()`.
    public func start(onAccept: @escaping AcceptHandler, onPause: PauseHandler? = nil) {
        started = true
        self.onAccept = onAccept
        self.onPause = onPause
        resumeTimer = LoopTimer(loop: acceptLoop) { [weak self] in self?.resumeAccepting() }
        let fd = self.fd
        source.setEventHandler { self.acceptReady() }
        source.setCancelHandler { Glibc.close(fd) }
        source.resume()
    }

    /// Consecutive per-connection failures taken in one wake-up before handing the queue back (each one dequeues
    /// a connection, so this only bounds a burst of resets).
    static let maxPerConnectionFailures = 64

    private func acceptReady() {
        acceptLoop.assertInLoop()
        guard let onAccept else { return }
        var failures = 0
        while true {
            let r: IOResult<(Int32, SocketAddress)>
            do { r = try acceptCall(fd) } catch {
                switch backoff.decide(errno: error.errno, now: acceptLoop.now()) {
                case .acceptNext:
                    failures += 1
                    if failures < Self.maxPerConnectionFailures { continue }
                    return
                case .pause(let nanos, let report):
                    pause(forNanos: nanos)
                    if let report, let onPause {
                        onPause(AcceptPause(address: address, error: error, pauses: report.pauses, nanos: nanos))
                    }
                    return
                }
            }
            guard case .processed(let (cfd, peer)) = r else { return }
            Socket.setNoDelay(cfd)
            let loop = group.next()
            if loop.inLoop {
                onAccept(cfd, peer, loop)
            } else {
                loop.execute { onAccept(cfd, peer, loop) }
            }
        }
    }

    /// Stops watching the socket; the timer resumes it. Suspending from inside the handler keeps Dispatch from
    /// re-arming the descriptor at all, so a full backlog costs nothing until then.
    private func pause(forNanos nanos: UInt64) {
        guard !paused, !stopped, let resumeTimer else { return }
        paused = true
        source.suspend()
        resumeTimer.arm(afterNanos: nanos)
    }

    private func resumeAccepting() {
        acceptLoop.assertInLoop()
        guard paused, !stopped else { return }
        paused = false
        // Waiting connections make the descriptor readable again at once: the next `accept` tries afresh.
        source.resume()
    }

    /// Whether accepting is paused now (tests; call on the accepting loop).
    var isPaused: Bool { paused }

    /// Stops accepting and closes the listening socket.
    public func stop() {
        acceptQueue.async { [self] in
            guard !stopped else { return }
            stopped = true
            source.cancel()
            // A suspended source runs its cancel handler (the close) only once resumed; cancelled first, it can no
            // longer deliver an event in between.
            if paused {
                paused = false
                resumeTimer?.disarm()
                source.resume()
            }
        }
    }
}

/// One pause of a listener, as reported to whoever logs it.
public struct AcceptPause: Sendable {
    /// The listener's bound address.
    public let address: SocketAddress
    /// The failure that caused the latest pause.
    public let error: IOError
    /// Pauses since the previous report, this one included.
    public let pauses: Int
    /// How long this pause lasts.
    public let nanos: UInt64
}
