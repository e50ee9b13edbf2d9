import GatewayCore
import Testing
@testable import GatewayProxy

/// Stop signals without a process: the readiness grace, a second signal, the drain.
@Suite struct ShutdownStateMachineTests {
    @Test func noGraceDrainsAtOnceAndLaterSignalsDoNothing() {
        var m = ShutdownStateMachine()
        #expect(m.stopSignal(grace: .seconds(0)) == .startDrain)
        #expect(m.state == .draining)
        #expect(m.stopSignal(grace: .seconds(0)) == .none)
        #expect(m.graceEnded() == .none)
    }

    @Test func aGraceFailsReadinessFirstThenDrainsWhenItEnds() {
        var m = ShutdownStateMachine()
        #expect(m.stopSignal(grace: .seconds(1)) == .startGrace(.seconds(1)))
        #expect(m.state == .grace)
        #expect(m.graceEnded() == .startDrain)
        #expect(m.state == .draining)
        #expect(m.stopSignal(grace: .seconds(1)) == .none)
    }

    @Test func aSecondSignalDuringTheGraceDrainsAtOnceAndTheGraceTimerThenDoesNothing() {
        var m = ShutdownStateMachine()
        #expect(m.stopSignal(grace: .seconds(30)) == .startGrace(.seconds(30)))
        #expect(m.stopSignal(grace: .seconds(30)) == .startDrain)
        #expect(m.graceEnded() == .none)
        #expect(m.state == .draining)
    }

    @Test func theGraceTimerBeforeAnySignalDoesNothing() {
        var m = ShutdownStateMachine()
        #expect(m.graceEnded() == .none)
        #expect(m.state == .running)
    }
}
