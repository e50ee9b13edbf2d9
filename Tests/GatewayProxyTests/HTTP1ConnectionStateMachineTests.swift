import GatewayCore
import Testing
@testable import GatewayProxy

/// The HTTP/1.1 connection lifecycle without sockets: each state against each input.
@Suite struct HTTP1ConnectionStateMachineTests {
    typealias M = HTTP1ConnectionStateMachine

    enum Reach: CaseIterable, Sendable {
        case idle, exchangeReading, exchangeComplete, tunnel, closing, closed

        func make() -> M {
            var m = M()
            switch self {
            case .idle:
                break
            case .exchangeReading:
                m.requestHead(keepAlive: true, bodyless: false)
            case .exchangeComplete:
                m.requestHead(keepAlive: true, bodyless: true)
                _ = m.requestEnded()
            case .tunnel:
                m.requestHead(keepAlive: true, bodyless: true)
                _ = m.requestEnded()
                m.enterTunnel()
            case .closing:
                _ = m.closeAfterFlush(outputQueued: true)
            case .closed:
                _ = m.closed()
            }
            return m
        }
    }

    @Test(arguments: Reach.allCases) func whereBytesGo(_ r: Reach) {
        let m = r.make()
        let expected: M.Bytes
        switch r {
        case .idle, .exchangeReading: expected = .parse
        case .exchangeComplete: expected = .stash
        case .tunnel: expected = .tunnel
        case .closing, .closed: expected = .stop
        }
        #expect(m.nextBytes(atEnd: false, parserIdle: true) == expected)
        // At the end of the input nothing is left to do, except asking a busy parser for the `.end` it may owe.
        #expect(m.nextBytes(atEnd: true, parserIdle: true) == .stop)
        let owesEnd = r == .idle || r == .exchangeReading
        #expect(m.nextBytes(atEnd: true, parserIdle: false) == (owesEnd ? .parse : .stop))
    }

    @Test func bytesBehindAnUpgradeWaitInTheStashUntilTheTunnel() {
        var m = Reach.exchangeComplete.make()
        #expect(m.nextBytes(atEnd: false, parserIdle: true) == .stash)
        m.pause(.pipeline)
        m.enterTunnel()
        #expect(!m.paused.contains(.pipeline))
        #expect(m.nextBytes(atEnd: false, parserIdle: true) == .tunnel)
    }

    @Test func anUpgradeTheUpstreamRefusedLeavesTheStashForTheNextRequest() {
        var m = Reach.exchangeComplete.make()
        m.pause(.pipeline)
        #expect(m.exchangeEnded(draining: false) == .readNext)
        #expect(m.state == .awaitingHead)
        #expect(m.nextBytes(atEnd: false, parserIdle: true) == .parse)
        #expect(m.unpause(.pipeline) == true)
    }

    @Test(arguments: Reach.allCases) func clientEOF(_ r: Reach) {
        var m = r.make()
        let expected: M.EOF
        switch r {
        case .idle, .closing, .closed: expected = .close
        case .exchangeReading, .tunnel: expected = .abortAndClose
        case .exchangeComplete: expected = .finishThenClose
        }
        #expect(m.clientEOF() == expected)
        if expected == .finishThenClose {
            #expect(!m.keepAlive && m.paused.contains(.closing))
            #expect(m.exchangeEnded(draining: false) == .closeAfterFlush)
        }
    }

    @Test(arguments: Reach.allCases) func timer(_ r: Reach) {
        let m = r.make()
        switch r {
        case .idle:
            #expect(m.timerFired(partialHead: true, outputBlocked: false) == .requestTimeout)
            #expect(m.timerFired(partialHead: false, outputBlocked: false) == .close)
        case .exchangeReading, .exchangeComplete, .tunnel:
            #expect(m.timerFired(partialHead: false, outputBlocked: true) == .abortAndClose)
            #expect(m.timerFired(partialHead: false, outputBlocked: false) == .none)
        case .closing:
            #expect(m.timerFired(partialHead: false, outputBlocked: true) == .close)
        case .closed:
            #expect(m.timerFired(partialHead: true, outputBlocked: true) == .none)
        }
    }

    @Test(arguments: Reach.allCases) func aStalledReaderStartsTheTimerOnlyDuringAnExchange(_ r: Reach) {
        let m = r.make()
        let expected = r == .exchangeReading || r == .exchangeComplete || r == .tunnel
        #expect(m.outputBlocked(timerArmed: false) == expected)
        #expect(!m.outputBlocked(timerArmed: true))
    }

    @Test(arguments: Reach.allCases) func outputDrained(_ r: Reach) {
        let m = r.make()
        switch r {
        case .closing: #expect(m.outputDrained() == .close)
        case .exchangeReading, .exchangeComplete, .tunnel: #expect(m.outputDrained() == .resumeUpstream)
        case .idle, .closed: #expect(m.outputDrained() == .none)
        }
    }

    @Test(arguments: Reach.allCases) func drain(_ r: Reach) {
        var m = r.make()
        switch r {
        case .idle:
            #expect(m.drain(partialHead: false) == .quietPeriod)
            #expect(!m.keepAlive)
            var partial = r.make()
            #expect(partial.drain(partialHead: true) == .none)
            #expect(!partial.keepAlive)
        case .exchangeReading, .exchangeComplete:
            #expect(m.drain(partialHead: false) == .none)
            #expect(!m.keepAlive)
        case .tunnel, .closing, .closed:
            #expect(m.drain(partialHead: false) == .none)
        }
        #expect(m.draining)
        #expect(m.drain(partialHead: false) == .none)
    }

    /// The drop the drain used to cause: a request on the wire to an idle keep-alive connection is answered.
    @Test func aRequestArrivingInTheQuietPeriodIsServedWithConnectionCloseThenTheConnectionCloses() {
        var m = M()
        #expect(m.drain(partialHead: false) == .quietPeriod)
        #expect(m.startsHead(parserIdle: true, hasBytes: true))
        #expect(m.nextBytes(atEnd: false, parserIdle: true) == .parse)
        m.requestHead(keepAlive: true, bodyless: true)
        #expect(!m.keepAlive)
        #expect(m.requestEnded() == true)
        let framing = m.responseHead(upstream: .contentLength(2), bodyless: false, clientIsHTTP10: false, draining: true)
        #expect(framing == M.ResponseFraming(length: .contentLength(2), close: true, keepAliveField: false))
        #expect(m.exchangeEnded(draining: true) == .closeAfterFlush)
    }

    @Test func theGatewaysOwnAnswerInTheQuietPeriodSaysConnectionClose() {
        var m = M()
        #expect(m.drain(partialHead: false) == .quietPeriod)
        m.requestHead(keepAlive: true, bodyless: true)
        #expect(m.answering(close: false) == true)
        #expect(m.exchangeEnded(draining: true) == .closeAfterFlush)
    }

    @Test func theQuietPeriodEndingOnAnIdleConnectionClosesIt() {
        var m = M()
        #expect(m.drain(partialHead: false) == .quietPeriod)
        #expect(m.timerFired(partialHead: false, outputBlocked: false) == .close)
        // A head that started in the quiet period runs on the header timer: 408 if it never completes.
        #expect(m.timerFired(partialHead: true, outputBlocked: false) == .requestTimeout)
    }

    @Test func aHeadBeingReadWhenTheDrainStartsIsServedAsTheLastRequest() {
        var m = M()
        #expect(m.drain(partialHead: true) == .none)
        m.requestHead(keepAlive: true, bodyless: true)
        #expect(!m.keepAlive)
        #expect(m.requestEnded() == true)
        #expect(m.exchangeEnded(draining: true) == .closeAfterFlush)
    }

    @Test func keepAliveReadsTheNextRequest() {
        var m = Reach.exchangeComplete.make()
        m.pause(.backPressure)
        #expect(m.exchangeEnded(draining: false) == .readNext)
        #expect(m.state == .awaitingHead && !m.requestComplete)
        #expect(!m.paused.contains(.backPressure))
    }

    @Test func anAnswerBeforeTheParserReportedTheEndSwallowsThatEnd() {
        var m = M()
        m.requestHead(keepAlive: true, bodyless: true)
        #expect(m.answering(close: false) == false)
        #expect(m.exchangeEnded(draining: false) == .readNext)
        #expect(m.requestEnded() == false)  // the old request's end
        m.requestHead(keepAlive: true, bodyless: true)
        #expect(m.requestEnded() == true)
    }

    @Test func anExchangeEndingWithItsBodyUnreadClosesTheConnection() {
        var m = Reach.exchangeReading.make()
        #expect(m.answering(close: false) == true)
        #expect(m.exchangeEnded(draining: false) == .closeAfterFlush)
        var unanswered = Reach.exchangeReading.make()
        #expect(unanswered.exchangeEnded(draining: false) == .closeAfterFlush)
    }

    @Test func drainingAndTunnelsAndCloseDelimitedResponsesClose() {
        var draining = Reach.exchangeComplete.make()
        #expect(draining.exchangeEnded(draining: true) == .closeAfterFlush)
        var tunnel = Reach.tunnel.make()
        #expect(tunnel.exchangeEnded(draining: false) == .closeAfterFlush)
        var http10 = Reach.exchangeComplete.make()
        let f = http10.responseHead(upstream: .chunked, bodyless: false, clientIsHTTP10: true, draining: false)
        #expect(f == M.ResponseFraming(length: .untilClose, close: true, keepAliveField: false))
        #expect(http10.exchangeEnded(draining: false) == .closeAfterFlush)
    }

    @Test func responseFraming() {
        var m = Reach.exchangeComplete.make()
        #expect(m.responseHead(upstream: .chunked, bodyless: false, clientIsHTTP10: false, draining: false)
                == M.ResponseFraming(length: .chunked, close: false, keepAliveField: false))
        #expect(m.responseChunked)
        var n = Reach.exchangeComplete.make()
        #expect(n.responseHead(upstream: .contentLength(5), bodyless: false, clientIsHTTP10: true, draining: false)
                == M.ResponseFraming(length: .contentLength(5), close: false, keepAliveField: true))
        var head = Reach.exchangeComplete.make()
        #expect(head.responseHead(upstream: .contentLength(5), bodyless: true, clientIsHTTP10: false, draining: true)
                == M.ResponseFraming(length: .none, close: true, keepAliveField: false))
        var empty = Reach.exchangeComplete.make()
        #expect(empty.responseHead(upstream: .none, bodyless: false, clientIsHTTP10: false, draining: false).length
                == .contentLength(0))
    }

    @Test func parseFailuresAlwaysClose() {
        var a = Reach.exchangeReading.make()
        #expect(a.parseFailed(hasExchange: true) == .refuseExchange)
        #expect(!a.keepAlive)
        var b = Reach.idle.make()
        #expect(b.parseFailed(hasExchange: false) == .answerAndClose)
    }

    @Test func readingResumesOnlyWithNoReasonLeftAndWhileOpen() {
        var m = Reach.exchangeReading.make()
        m.pause(.backPressure)
        m.pause(.pipeline)
        #expect(m.unpause(.backPressure) == false)
        #expect(m.unpause(.pipeline) == true)
        var c = Reach.closing.make()
        #expect(c.unpause(.closing) == false)
    }

    @Test func closesOnlyOnce() {
        var m = M()
        #expect(m.closed() == true)
        #expect(m.closed() == false)
        #expect(m.exchangeEnded(draining: false) == .closeAfterFlush)
    }
}
