import GatewayReplay
import Testing
@testable import GatewayProxy

/// The exchange lifecycle without sockets: every state against every input, and the orders that once went wrong.
@Suite struct ExchangeStateMachineTests {
    typealias M = ExchangeStateMachine

    /// The states an exchange can be in, each reached through real inputs (never by setting the state).
    enum Reach: CaseIterable, Sendable {
        case admitting, connecting, forwardingBody, forwardingSent, awaitingUpgrade, respondingBody, respondingSent,
             tunnel, finished

        /// A request with a body, a bodiless one, or an upgrade, as the state needs.
        func make() -> M {
            switch self {
            case .admitting:
                var m = M(isUpgrade: false, bodyless: false)
                #expect(m.start(needsAdmission: true) == .admit)
                return m
            case .connecting:
                var m = M(isUpgrade: false, bodyless: false)
                #expect(m.start(needsAdmission: false) == .connect)
                return m
            case .forwardingBody:
                var m = Reach.connecting.make()
                _ = m.attached()
                return m
            case .forwardingSent:
                var m = M(isUpgrade: false, bodyless: true)
                _ = m.start(needsAdmission: false)
                _ = m.attached()
                return m
            case .awaitingUpgrade:
                var m = M(isUpgrade: true, bodyless: true)
                _ = m.start(needsAdmission: false)
                _ = m.attached()
                return m
            case .respondingBody:
                var m = Reach.forwardingBody.make()
                _ = m.upstreamHead(status: 200)
                return m
            case .respondingSent:
                var m = Reach.forwardingSent.make()
                _ = m.upstreamHead(status: 200)
                return m
            case .tunnel:
                var m = Reach.awaitingUpgrade.make()
                _ = m.upstreamHead(status: 101)
                return m
            case .finished:
                var m = Reach.respondingSent.make()
                _ = m.upstreamEnd(reusable: true)
                return m
            }
        }
    }

    @Test func eachStateIsReachedThroughInputs() {
        #expect(Reach.admitting.make().state == .admitting)
        #expect(Reach.connecting.make().state == .connecting)
        #expect(Reach.forwardingBody.make().state == .forwarding(requestSent: false))
        #expect(Reach.forwardingSent.make().state == .forwarding(requestSent: true))
        #expect(Reach.awaitingUpgrade.make().state == .awaitingUpgrade)
        #expect(Reach.respondingBody.make().state == .responding(requestSent: false))
        #expect(Reach.respondingSent.make().state == .responding(requestSent: true))
        #expect(Reach.tunnel.make().state == .tunnel)
        #expect(Reach.finished.make().state == .finished(.completed))
    }

    // MARK: client bytes: the smuggling rule

    @Test(arguments: Reach.allCases) func clientBytesGoUpstreamOnlyWhileABodyIsOpenOrInTheTunnel(_ r: Reach) {
        let expected: M.ClientBytes
        switch r {
        case .admitting, .connecting, .awaitingUpgrade: expected = .hold
        case .forwardingBody, .respondingBody, .tunnel: expected = .forward
        case .forwardingSent, .respondingSent, .finished: expected = .drop
        }
        #expect(r.make().clientBytes() == expected)
    }

    @Test func anUpgradeNeverForwardsClientBytesBeforeThe101() {
        var m = M(isUpgrade: true, bodyless: true)
        #expect(m.clientBytes() == .hold)  // admitting: nothing is known yet
        _ = m.start(needsAdmission: false)
        #expect(m.clientBytes() == .hold)
        let a = m.attached()
        // The head goes; held bytes do not.
        #expect(a == M.Attached(flushHeldBody: false, sendBodyEnd: false, armResponseTimer: true))
        #expect(m.clientBytes() == .hold)
        // An interim 1xx changes nothing.
        #expect(m.upstreamInterim() == .forward)
        #expect(m.clientBytes() == .hold)
        #expect(m.upstreamHead(status: 101) == .enterTunnel)
        #expect(m.clientBytes() == .forward)
    }

    @Test func aRefusedUpgradeDropsTheHeldBytesAndNeverReusesTheConnection() {
        var m = Reach.awaitingUpgrade.make()
        #expect(m.upstreamHead(status: 200) == .forward)
        #expect(m.state == .responding(requestSent: true))
        // Bytes behind the refused upgrade: dropped, whether they come now or were held before.
        #expect(m.clientBytes() == .drop)
        #expect(m.forwardsResponseBody)
        // A clean, keep-alive response still closes the connection: it may have read the bytes as a request.
        #expect(m.upstreamEnd(reusable: true) == .finish(.close))
        #expect(m.isFinished)
    }

    @Test func aClientEndOnAnUpgradeChangesNothing() {
        var m = Reach.awaitingUpgrade.make()
        #expect(m.clientEnd() == .none)
        #expect(m.state == .awaitingUpgrade)
        #expect(m.clientBytes() == .hold)
        var t = Reach.tunnel.make()
        #expect(t.clientEnd() == .none)
        #expect(t.clientBytes() == .forward)
    }

    @Test func clientResetMidUpgradeFinishesWithoutAnswer() {
        var m = Reach.awaitingUpgrade.make()
        #expect(m.clientGone() == .finish(releaseToken: false))
        #expect(m.state == .finished(.clientGone))
        // A late 101 is ignored: nothing can enter a tunnel now.
        #expect(m.upstreamHead(status: 101) == .none)
        #expect(m.clientBytes() == .drop)
    }

    // MARK: every input after the finish does nothing

    @Test func afterTheFinishEveryInputIsIgnored() {
        var m = Reach.finished.make()
        #expect(m.admitted(.fresh, allowUnavailable: false) == .none)
        #expect(m.attached() == nil)
        #expect(m.noConnection(.upstreamUnavailable) == .none)
        #expect(m.clientBytes() == .drop)
        #expect(m.clientEnd() == .none)
        #expect(m.clientGone() == .none)
        #expect(m.refuse(.bodyTooLarge) == .none)
        #expect(m.upstreamInterim() == .none)
        #expect(m.upstreamHead(status: 200) == .none)
        #expect(!m.forwardsResponseBody)
        #expect(m.upstreamEnd(reusable: true) == .none)
        #expect(m.upstreamFailed(badResponse: false, retryable: true) == .none)
        #expect(m.responseTimedOut() == .none)
        let idle = m.tunnelIdle()
        #expect(!idle)
        #expect(m.state == .finished(.completed))
    }

    @Test(arguments: Reach.allCases) func theExchangeFinishesExactlyOnce(_ r: Reach) {
        var m = r.make()
        let wasFinished = m.isFinished
        let first = m.clientGone()
        #expect(first == (wasFinished ? .none : .finish(releaseToken: false)))
        #expect(m.clientGone() == .none)
        #expect(m.refuse(.badRequest) == .none)
        #expect(m.upstreamFailed(badResponse: true, retryable: false) == .none)
    }

    // MARK: admission and the jti

    @Test func admissionOutcomes() {
        var fresh = Reach.admitting.make()
        #expect(fresh.admitted(.fresh, allowUnavailable: false) == .connect)
        #expect(fresh.state == .connecting && fresh.holdsReplayEntry)

        var replayed = Reach.admitting.make()
        #expect(replayed.admitted(.replayed, allowUnavailable: false) == .replayed)
        #expect(replayed.state == .finished(.answered(401)))

        var full = Reach.admitting.make()
        #expect(full.admitted(.full, allowUnavailable: true) == .answer(.replayStoreFull))

        var down = Reach.admitting.make()
        #expect(down.admitted(.unavailable(.connection), allowUnavailable: false) == .answer(.replayStoreUnavailable))
        // Allowed through unchecked: said so (the exchange counts it), with the store's reason, and nothing to give back.
        var allowed = Reach.admitting.make()
        #expect(allowed.admitted(.unavailable(.timeout), allowUnavailable: true) == .connectUnchecked(.timeout))
        #expect(allowed.state == .connecting && !allowed.holdsReplayEntry)
        // An exchange that ended while the store was failing was not admitted at all: nothing to count.
        var ended = Reach.admitting.make()
        _ = ended.clientGone()
        #expect(ended.admitted(.unavailable(.connection), allowUnavailable: true) == .none)
    }

    @Test func aJtiThatNeverReachedAnUpstreamGoesBack() {
        var m = Reach.admitting.make()
        _ = m.admitted(.fresh, allowUnavailable: false)
        #expect(m.noConnection(.upstreamUnavailable) == .answer(.upstreamUnavailable, releaseToken: true))

        var busy = Reach.admitting.make()
        _ = busy.admitted(.fresh, allowUnavailable: false)
        #expect(busy.noConnection(.upstreamBusy) == .answer(.upstreamBusy, releaseToken: true))

        // A client gone before any connection gives it back too: nothing reached an upstream.
        var gone = Reach.admitting.make()
        _ = gone.admitted(.fresh, allowUnavailable: false)
        #expect(gone.clientGone() == .finish(releaseToken: true))

        // Once attached, the request may have been read: the jti stays used whatever happens next.
        var sent = Reach.admitting.make()
        _ = sent.admitted(.fresh, allowUnavailable: false)
        _ = sent.attached()
        #expect(sent.reachedUpstream)
        #expect(sent.upstreamFailed(badResponse: false, retryable: false) == .answer(.upstreamUnavailable))
        #expect(sent.clientGone() == .none)
    }

    @Test func theStoreAnsweringAfterTheClientWentIsRemembered() {
        var m = Reach.admitting.make()
        #expect(m.clientGone() == .finish(releaseToken: false))
        #expect(m.admitted(.fresh, allowUnavailable: false) == .none)
        // The exchange gives the late entry back itself (see ProxyExchange.admitted).
        #expect(m.holdsReplayEntry && !m.reachedUpstream)
    }

    // MARK: connecting

    @Test(arguments: Reach.allCases) func attachingIsOnlyForAConnectingExchange(_ r: Reach) {
        var m = r.make()
        #expect((m.attached() != nil) == (r == .connecting))
    }

    @Test func attachingSendsWhatArrivedBeforeTheConnection() {
        var withBody = Reach.connecting.make()
        #expect(withBody.attached() == M.Attached(flushHeldBody: true, sendBodyEnd: false, armResponseTimer: false))

        var ended = Reach.connecting.make()
        #expect(ended.clientEnd() == .none)  // remembered for the attach
        #expect(ended.attached() == M.Attached(flushHeldBody: true, sendBodyEnd: true, armResponseTimer: true))
        #expect(ended.state == .forwarding(requestSent: true))
    }

    @Test func noServerLeftAnswersUnavailable() {
        var m = Reach.connecting.make()
        #expect(m.noConnection(.upstreamUnavailable) == .answer(.upstreamUnavailable, releaseToken: false))
        #expect(m.state == .finished(.answered(502)))
        #expect(m.noConnection(.upstreamBusy) == .none)
    }

    // MARK: the response timer follows the request

    @Test func theResponseTimerStartsOnlyOnceTheWholeRequestIsOut() {
        var m = Reach.forwardingBody.make()
        // A slow upload: no timer yet, and a timeout that fires anyway is not for this state.
        #expect(m.responseTimedOut() == .none)
        #expect(m.clientEnd() == .sendBodyEnd(armResponseTimer: true))
        #expect(m.responseTimedOut() == .answer(.upstreamTimeout))
        #expect(m.state == .finished(.answered(504)))
    }

    @Test func anEarlyResponseLetsTheBodyFinishWithoutATimer() {
        var m = Reach.respondingBody.make()
        #expect(m.clientBytes() == .forward)
        #expect(m.clientEnd() == .sendBodyEnd(armResponseTimer: false))
        #expect(m.responseTimedOut() == .none)
        #expect(m.upstreamEnd(reusable: true) == .finish(.park))
    }

    @Test func anUpstreamThatEndsBeforeTheRequestBodyIsNeverReused() {
        var m = Reach.respondingBody.make()
        #expect(m.upstreamEnd(reusable: true) == .finish(.close))
    }

    @Test func reuseFollowsTheUpstreamsFraming() {
        var clean = Reach.respondingSent.make()
        #expect(clean.upstreamEnd(reusable: true) == .finish(.park))
        var dirty = Reach.respondingSent.make()
        #expect(dirty.upstreamEnd(reusable: false) == .finish(.close))
    }

    // MARK: upstream heads and failures in every state

    @Test(arguments: Reach.allCases) func aFinalHeadIsForwardedOnlyWhileAwaitingOne(_ r: Reach) {
        var m = r.make()
        let expected: M.Head
        switch r {
        case .forwardingBody, .forwardingSent, .awaitingUpgrade: expected = .forward
        default: expected = .none
        }
        #expect(m.upstreamHead(status: 200) == expected)
    }

    @Test func anUnaskedFor101IsABadResponse() {
        var m = Reach.forwardingSent.make()
        #expect(m.upstreamHead(status: 101) == .answer(.badUpstreamResponse))
        #expect(m.state == .finished(.answered(502)))
    }

    @Test(arguments: Reach.allCases) func upstreamFailureInEveryState(_ r: Reach) {
        var m = r.make()
        let expected: M.Failure
        switch r {
        case .admitting, .connecting, .finished: expected = .none
        case .forwardingBody, .forwardingSent, .awaitingUpgrade: expected = .answer(.upstreamUnavailable)
        case .respondingBody, .respondingSent: expected = .abort(.upstreamBroke)
        case .tunnel: expected = .abort(.tunnelClosed)
        }
        #expect(m.upstreamFailed(badResponse: false, retryable: false) == expected)
    }

    @Test func aBadResponseIsNeverRetried() {
        var m = Reach.forwardingSent.make()
        #expect(m.upstreamFailed(badResponse: true, retryable: true) == .answer(.badUpstreamResponse))
        var r = Reach.forwardingSent.make()
        #expect(r.upstreamFailed(badResponse: false, retryable: true) == .retry)
        #expect(r.state == .connecting)
        // The retry's connection gets the head again; the held-bytes rule still holds for an upgrade.
        var u = Reach.awaitingUpgrade.make()
        #expect(u.upstreamFailed(badResponse: false, retryable: true) == .retry)
        #expect(u.clientBytes() == .hold)
        #expect(u.attached() != nil)
        #expect(u.state == .awaitingUpgrade)
    }

    @Test(arguments: Reach.allCases) func refusingAnswersUntilTheResponseStartsThenCuts(_ r: Reach) {
        var m = r.make()
        let expected: M.Refusal
        switch r {
        case .finished: expected = .none
        case .respondingBody, .respondingSent, .tunnel: expected = .abort
        default: expected = .answer(.bodyTooLarge)
        }
        #expect(m.refuse(.bodyTooLarge) == expected)
        #expect(m.isFinished)
    }

    @Test(arguments: Reach.allCases) func onlyATunnelGoesIdle(_ r: Reach) {
        var m = r.make()
        let idle = m.tunnelIdle()
        #expect(idle == (r == .tunnel))
    }

    @Test func anUpstreamFailureWhileTheAnswerIsWrittenFindsTheExchangeFinished() {
        // The answer's write fails and reports the client gone, and the upstream's close reports a failure, both
        // from inside the answer: the machine has already finished, so neither does anything.
        var m = Reach.forwardingSent.make()
        #expect(m.responseTimedOut() == .answer(.upstreamTimeout))
        #expect(m.clientGone() == .none)
        #expect(m.upstreamFailed(badResponse: false, retryable: true) == .none)
        #expect(m.state == .finished(.answered(504)))
    }
}
