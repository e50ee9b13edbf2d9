import GatewayTransport
import GatewayHTTP1
import GatewayLoop

/// One connect to an upstream server in flight, through its TLS handshake when there is one.
///
/// It holds a unit of the server's budget for as long as its socket is open: the unit moves to the connection it
/// becomes, or goes back when the socket closes. An exchange that ends while its connect is in flight leaves the
/// attempt orphaned rather than closing the socket: a plain connect that then succeeds goes to the pool for the next
/// request. Closing it in flight instead let a flood of reset HTTP/2 streams churn thousands of connects through
/// the upstream's accept queue, each leaving a half-open socket behind on the upstream's side.
final class ConnectAttempt {
    let budget: ServerBudget
    let target: UpstreamTarget
    let server: Int
    var slot: Int { target.poolSlots[server] }
    private let loopState: LoopState
    private var timer: LoopTimer?
    /// What the owning exchange does on a connect timeout; nil once orphaned.
    var onTimeout: (() -> Void)?
    /// The socket while the TCP connect runs, then the transport while the TLS handshake runs.
    private var socket: SocketChannel?
    private var handshake: TransportChannel?
    private(set) var ended = false
    /// The exchange went away; the attempt finishes on its own.
    private(set) var orphaned = false

    init(target: UpstreamTarget, server: Int, loopState: LoopState) {
        self.target = target
        self.server = server
        budget = target.budgets[server]
        self.loopState = loopState
        let t = LoopTimer(loop: loopState.loop) { [unowned self] in self.timedOut() }
        t.arm(after: target.connectTimeout)
        timer = t
    }

    func connecting(_ s: SocketChannel?) { socket = s }

    func handshaking(_ t: TransportChannel?) {
        socket = nil
        handshake = t
        // A handshake belongs to the exchange that asked for it: an orphan does not finish one.
        if orphaned { cancel() }
    }

    /// The attempt became a connection, which now holds the unit.
    func succeeded() {
        guard !ended else { return }
        end()
    }

    /// The connect or handshake failed and closed its socket: the unit goes back.
    func failed() {
        guard !ended else { return }
        end()
        loopState.releaseBudget(budget, slot: slot)
    }

    /// Given up (connect timeout): whatever is open closes now, and the unit goes back.
    func cancel() {
        guard !ended else { return }
        let s = socket
        let t = handshake
        end()
        if let s {
            s.onWritable = nil
            s.close()
        }
        if let t {
            t.onReadable = nil
            t.onWritable = nil
            t.close()
        }
        loopState.releaseBudget(budget, slot: slot)
    }

    /// The exchange ended while the connect was in flight (see the type's comment).
    func orphan() {
        guard !ended else { return }
        orphaned = true
        onTimeout = nil
        if handshake != nil { cancel() }
    }

    /// An orphaned plain connect succeeded: the connection waits in the pool for the next exchange.
    func adopt(_ channel: SocketChannel, serverKey: String, limits: HTTP1Limits) {
        guard !ended else {
            channel.close()
            return
        }
        end()
        loopState.pool.markHealthy(slot: slot)
        let c = UpstreamConnection(transport: TransportChannel(channel: channel), serverKey: serverKey, serverSlot: slot,
                                   budget: budget, limits: limits, loopState: loopState)
        loopState.pool.adopt(c, maxIdle: target.maxIdleConnections, idleTimeout: target.idleTimeout)
    }

    private func timedOut() {
        guard !ended else { return }
        if let f = onTimeout { f() } else { cancel() }
    }

    private func end() {
        ended = true
        timer?.disarm()
        timer = nil
        socket = nil
        handshake = nil
    }
}
