import GatewayCore
import GatewayReplay

/// The lifecycle of one exchange as a value: every input returns what the exchange must do, and the exchange
/// (`ProxyExchange`) only carries that out. Where client bytes go, when the response timer runs, whether the
/// upstream connection may be reused and whether the token's `jti` is given back are all decided here.
///
/// Client bytes reach the upstream in two states only: `.forwarding`/`.responding` with the request body still
/// open (a non-upgrade request), and `.tunnel`. Bytes sent on an upgrade before the upstream switched protocols are
/// held, by construction: no state of an upgrade before `.tunnel` answers `.forward`.
struct ExchangeStateMachine {
    enum State: Equatable {
        /// Waiting for the replay store.
        case admitting
        /// Waiting for an upstream connection: queued for one, connecting, or in its TLS handshake.
        case connecting
        /// The head went upstream and no final response head came back yet. `requestSent`: the whole request
        /// (body and its end) went too, so the response timer runs.
        case forwarding(requestSent: Bool)
        /// An upgrade went upstream; the client's bytes are held until the upstream answers `101`.
        case awaitingUpgrade
        /// The final response head went to the client; its body streams.
        case responding(requestSent: Bool)
        /// `101` passed: both sides are raw bytes.
        case tunnel
        case finished(FinishReason)
    }

    /// Why an exchange ended (for the access log and the downstream).
    enum FinishReason: Equatable {
        /// The upstream's response went to the client whole.
        case completed
        /// The gateway answered itself with this status.
        case answered(Int)
        /// The client went away or broke its request.
        case clientGone
        /// The upstream failed after the response had started: the client is cut.
        case upstreamBroke
        /// A tunnel closed (either side, or idle).
        case tunnelClosed
    }

    /// Where bytes the client sent go.
    enum ClientBytes: Equatable {
        case forward
        /// Kept by the exchange (and the client paused) until a later action sends or drops them.
        case hold
        case drop
    }

    /// What to do with the upstream connection when an exchange is over.
    enum UpstreamDisposal: Equatable {
        case none
        /// Back to the pool (response read whole, request sent whole, connection clean).
        case park
        /// Never reused.
        case close
    }

    private(set) var state: State = .admitting
    let isUpgrade: Bool
    /// The client's request (body and end) is complete on the client side.
    private(set) var clientEnded: Bool
    /// Some request byte was written toward an upstream: from then on the token's `jti` stays used.
    private(set) var reachedUpstream = false
    /// The replay store recorded this exchange's `jti` (only then is there something to give back).
    private(set) var holdsReplayEntry = false
    /// The upstream answered an upgrade with something other than `101`: its connection is never reused.
    private var refusedUpgrade = false

    init(isUpgrade: Bool, bodyless: Bool) {
        self.isUpgrade = isUpgrade
        clientEnded = bodyless && !isUpgrade
    }

    var isFinished: Bool { if case .finished = state { return true } else { return false } }

    // MARK: starting

    enum Start: Equatable { case admit, connect }

    mutating func start(needsAdmission: Bool) -> Start {
        if needsAdmission { return .admit }
        state = .connecting
        return .connect
    }

    enum Admitted: Equatable {
        case none
        case connect
        /// Connect although the store could not answer (`on_unavailable: allow`): the one place an exchange goes on
        /// without a replay check, so the one place it is counted and warned about.
        case connectUnchecked(ReplayStoreFault)
        /// `401 token_replayed`.
        case replayed
        case answer(GatewayErrorCode)
    }

    /// The replay store answered. `allowUnavailable` is `on_unavailable: allow`.
    mutating func admitted(_ a: ReplayAdmission, allowUnavailable: Bool) -> Admitted {
        guard state == .admitting else {
            // The exchange ended while the store was answering: what it recorded goes back below.
            if a == .fresh { holdsReplayEntry = true }
            return .none
        }
        switch a {
        case .fresh:
            holdsReplayEntry = true
            state = .connecting
            return .connect
        case .replayed:
            state = .finished(.answered(401))
            return .replayed
        case .full:
            return finishAnswering(.replayStoreFull)
        case .unavailable(let fault):
            if allowUnavailable {
                state = .connecting
                return .connectUnchecked(fault)
            }
            return finishAnswering(.replayStoreUnavailable)
        }
    }

    private mutating func finishAnswering(_ code: GatewayErrorCode) -> Admitted {
        state = .finished(.answered(code.status))
        return .answer(code)
    }

    // MARK: connecting

    /// What to send once an upstream connection is attached.
    struct Attached: Equatable {
        /// Send the request body bytes held so far.
        var flushHeldBody: Bool
        /// Send the end of the request body (chunked terminator and trailers).
        var sendBodyEnd: Bool
        /// The whole request is out: start the response timer.
        var armResponseTimer: Bool
    }

    /// An upstream connection is ready and the head is about to be written.
    mutating func attached() -> Attached? {
        guard state == .connecting else { return nil }
        reachedUpstream = true
        if isUpgrade {
            // An upgrade has no body: the request is complete with its head. Client bytes stay held.
            state = .awaitingUpgrade
            return Attached(flushHeldBody: false, sendBodyEnd: false, armResponseTimer: true)
        }
        state = .forwarding(requestSent: clientEnded)
        return Attached(flushHeldBody: true, sendBodyEnd: clientEnded, armResponseTimer: clientEnded)
    }

    enum ConnectFailed: Equatable {
        case none
        /// Answer, giving the `jti` back when the store holds it.
        case answer(GatewayErrorCode, releaseToken: Bool)
    }

    /// No connection could be had (every server refused, or none came free within `queue_timeout`): the request
    /// never reached an upstream.
    mutating func noConnection(_ code: GatewayErrorCode) -> ConnectFailed {
        guard state == .connecting || state == .admitting else { return .none }
        state = .finished(.answered(code.status))
        return .answer(code, releaseToken: holdsReplayEntry && !reachedUpstream)
    }

    // MARK: client input

    /// Where bytes the client just sent go.
    func clientBytes() -> ClientBytes {
        switch state {
        case .admitting, .connecting:
            return .hold
        case .awaitingUpgrade:
            return .hold
        case .forwarding, .responding:
            // An upgrade the upstream refused never forwards what the client sent behind it.
            if isUpgrade || clientEnded { return .drop }
            return .forward
        case .tunnel:
            return .forward
        case .finished:
            return .drop
        }
    }

    enum ClientEnd: Equatable {
        case none
        /// Send the body's end upstream; `armResponseTimer`: the response head has not come yet.
        case sendBodyEnd(armResponseTimer: Bool)
    }

    /// The client finished its request body (HTTP/1.1 message end, HTTP/2 END_STREAM).
    mutating func clientEnd() -> ClientEnd {
        if isUpgrade { return .none }
        guard !clientEnded else { return .none }
        clientEnded = true
        switch state {
        case .forwarding:
            state = .forwarding(requestSent: true)
            return .sendBodyEnd(armResponseTimer: true)
        case .responding:
            state = .responding(requestSent: true)
            return .sendBodyEnd(armResponseTimer: false)
        default:
            // Before a connection the end is sent by `attached`; after the finish nothing is sent.
            return .none
        }
    }

    enum ClientGone: Equatable {
        case none
        case finish(releaseToken: Bool)
    }

    /// The client reset the stream, closed the connection, or broke its request.
    mutating func clientGone() -> ClientGone {
        if isFinished { return .none }
        let release = holdsReplayEntry && !reachedUpstream
        state = .finished(.clientGone)
        return .finish(releaseToken: release)
    }

    enum Refusal: Equatable {
        case none
        /// Nothing of the response went out: answer with this code.
        case answer(GatewayErrorCode)
        /// The response started: cut the client.
        case abort
    }

    /// The gateway must refuse the exchange (request body over the limit, request that broke the parser).
    mutating func refuse(_ code: GatewayErrorCode) -> Refusal {
        switch state {
        case .finished:
            return .none
        case .responding, .tunnel:
            state = .finished(.upstreamBroke)
            return .abort
        default:
            state = .finished(.answered(code.status))
            return .answer(code)
        }
    }

    // MARK: upstream input

    enum Interim: Equatable { case none, forward }

    /// A 1xx other than 101.
    func upstreamInterim() -> Interim {
        switch state {
        case .forwarding, .awaitingUpgrade: return .forward
        default: return .none
        }
    }

    enum Head: Equatable {
        case none
        /// Pass the head to the client; the response timer stops.
        case forward
        /// `101` to an upgrade: tell the client, then send it the held bytes and enter the tunnel.
        case enterTunnel
        /// The head cannot be passed on: answer instead.
        case answer(GatewayErrorCode)
    }

    /// A final (or 101) response head arrived.
    mutating func upstreamHead(status: Int) -> Head {
        switch state {
        case .awaitingUpgrade:
            if status == 101 {
                state = .tunnel
                return .enterTunnel
            }
            // Refused: the client gets this answer; the bytes it sent behind its upgrade are dropped, and the
            // connection (which may have read them as a request of its own) is never reused.
            refusedUpgrade = true
            state = .responding(requestSent: true)
            return .forward
        case .forwarding(let sent):
            if status == 101 {
                state = .finished(.answered(GatewayErrorCode.badUpstreamResponse.status))
                return .answer(.badUpstreamResponse)
            }
            state = .responding(requestSent: sent)
            return .forward
        default:
            return .none
        }
    }

    /// Whether response body bytes from the upstream go to the client.
    var forwardsResponseBody: Bool { if case .responding = state { return true } else { return false } }

    enum End: Equatable {
        case none
        /// End the client's response, dispose of the upstream connection, finish.
        case finish(UpstreamDisposal)
    }

    /// The upstream's response ended; `reusable`: its framing left the connection clean for another request.
    mutating func upstreamEnd(reusable: Bool) -> End {
        guard case .responding(let sent) = state else { return .none }
        state = .finished(.completed)
        return .finish(sent && reusable && !refusedUpgrade ? .park : .close)
    }

    enum Failure: Equatable {
        case none
        case retry
        case answer(GatewayErrorCode)
        /// The response (or tunnel) had started: cut the client (a tunnel's stream ends cleanly).
        case abort(FinishReason)
    }

    /// The upstream connection failed. `retryable`: a reused keep-alive connection that closed before saying
    /// anything, for an idempotent bodiless request, not retried yet.
    mutating func upstreamFailed(badResponse: Bool, retryable: Bool) -> Failure {
        switch state {
        case .tunnel:
            state = .finished(.tunnelClosed)
            return .abort(.tunnelClosed)
        case .responding:
            state = .finished(.upstreamBroke)
            return .abort(.upstreamBroke)
        case .forwarding, .awaitingUpgrade:
            if !badResponse && retryable {
                state = .connecting
                return .retry
            }
            let code: GatewayErrorCode = badResponse ? .badUpstreamResponse : .upstreamUnavailable
            state = .finished(.answered(code.status))
            return .answer(code)
        default:
            return .none
        }
    }

    /// `response_timeout` passed with no response head.
    mutating func responseTimedOut() -> Refusal {
        switch state {
        case .forwarding(requestSent: true), .awaitingUpgrade:
            state = .finished(.answered(GatewayErrorCode.upstreamTimeout.status))
            return .answer(.upstreamTimeout)
        default:
            return .none
        }
    }

    /// `tunnel_idle_timeout` passed with no byte either way.
    mutating func tunnelIdle() -> Bool {
        guard state == .tunnel else { return false }
        state = .finished(.tunnelClosed)
        return true
    }
}
