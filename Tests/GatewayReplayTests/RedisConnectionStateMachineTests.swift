@testable import GatewayReplay
import Testing

/// The Redis connection lifecycle without a socket: every state against every input.
@Suite struct RedisConnectionStateMachineTests {
    let ms: UInt64 = 1_000_000

    @Test func firstCommandConnectsAndLaterOnesWaitForIt() {
        var m = RedisConnectionStateMachine()
        #expect(m.send(now: 0) == .connectAndHold)
        #expect(m.state == .connecting)
        #expect(m.send(now: 1) == .hold)
    }

    @Test func withoutLoginTheConnectionIsReadyAtOnce() {
        var m = RedisConnectionStateMachine()
        _ = m.send(now: 0)
        #expect(m.connected(loginSteps: 0) == .write)
        #expect(m.state == .ready)
        #expect(m.send(now: 1) == .write)
    }

    @Test func commandsArePipelinedBehindTheLogin() {
        var m = RedisConnectionStateMachine()
        _ = m.send(now: 0)
        #expect(m.connected(loginSteps: 2) == .loginThenWrite)
        #expect(m.send(now: 1) == .write)
        #expect(m.loginReplied(ok: true, now: 2, jitter: 0) == .wait)
        #expect(m.state == .loggingIn(remaining: 1))
        #expect(m.loginReplied(ok: true, now: 3, jitter: 0) == .ready)
        #expect(m.state == .ready)
    }

    @Test func aRefusedLoginBacksOffAndCommandsFailFastUntilItEnds() {
        var m = RedisConnectionStateMachine(backoffBaseNanos: 100 * ms, backoffCapNanos: 1000 * ms)
        _ = m.send(now: 0)
        _ = m.connected(loginSteps: 1)
        // jitter 1: the full delay.
        #expect(m.loginReplied(ok: false, now: 10 * ms, jitter: 1) == .fail(backoffUntil: 110 * ms))
        #expect(m.send(now: 50 * ms) == .failFast)
        #expect(m.send(now: 110 * ms) == .connectAndHold)
    }

    @Test func theBackoffDoublesUpToTheCapAndAnAnswerResetsIt() {
        var m = RedisConnectionStateMachine(backoffBaseNanos: 100 * ms, backoffCapNanos: 350 * ms)
        #expect(m.failed(now: 0, jitter: 1) == 100 * ms)
        #expect(m.failed(now: 0, jitter: 1) == 200 * ms)
        #expect(m.failed(now: 0, jitter: 1) == 350 * ms)
        #expect(m.failed(now: 0, jitter: 1) == 350 * ms)
        // jitter 0: half the delay, so reconnects of many loops spread out.
        #expect(m.failed(now: 0, jitter: 0) == 175 * ms)
        m.answered()
        #expect(m.consecutiveFailures == 0)
        #expect(m.failed(now: 0, jitter: 1) == 100 * ms)
    }

    @Test func aConnectThatFinishesAfterAFailureIsClosed() {
        var m = RedisConnectionStateMachine()
        _ = m.send(now: 0)
        m.failed(now: 0, jitter: 0)
        #expect(m.connected(loginSteps: 0) == .close)
        var idle = RedisConnectionStateMachine()
        #expect(idle.connected(loginSteps: 1) == .close)
    }

    @Test func loginRepliesOutsideTheLoginAreIgnored() {
        var m = RedisConnectionStateMachine()
        #expect(m.loginReplied(ok: false, now: 0, jitter: 0) == .wait)
        #expect(m.state == .idle)
    }
}
