import GatewayLoop
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("AcceptBackoff")
struct AcceptBackoffTests {
    static let second: UInt64 = 1_000_000_000
    static let ms: UInt64 = 1_000_000

    @Test("out of descriptors or memory: pause 100 ms", arguments: [EMFILE, ENFILE, ENOBUFS, ENOMEM])
    func exhaustionPauses(errno: Int32) {
        var b = AcceptBackoff()
        #expect(b.decide(errno: errno, now: 5 * Self.second) == .pause(nanos: 100 * Self.ms,
                                                                      report: .init(errno: errno, pauses: 1)))
    }

    @Test("an error of the one dequeued connection: take the next at once, never reported",
          arguments: [ECONNABORTED, EPROTO, EPERM, ENETDOWN, EHOSTUNREACH, ENETUNREACH])
    func perConnectionErrorsAcceptNext(errno: Int32) {
        var b = AcceptBackoff()
        #expect(b.decide(errno: errno, now: 0) == .acceptNext)
        // They neither count as pauses nor use up the report: the first real pause still reports, alone.
        #expect(b.decide(errno: EMFILE, now: 1) == .pause(nanos: 100 * Self.ms, report: .init(errno: EMFILE, pauses: 1)))
    }

    @Test("an unforeseen error pauses too (a spin would cost a core), and is reported", arguments: [EBADF, EINVAL, ENOTSOCK])
    func unknownErrorsPause(errno: Int32) {
        var b = AcceptBackoff()
        #expect(b.decide(errno: errno, now: 0) == .pause(nanos: 100 * Self.ms, report: .init(errno: errno, pauses: 1)))
    }

    @Test("reports at most once a second, counting the pauses it kept quiet about")
    func reportsAtMostOnceASecond() {
        var b = AcceptBackoff()
        let t0: UInt64 = 42 * Self.second
        #expect(b.decide(errno: EMFILE, now: t0) == .pause(nanos: 100 * Self.ms, report: .init(errno: EMFILE, pauses: 1)))
        // Nine more pauses inside the second: quiet.
        for i in 1...9 {
            #expect(b.decide(errno: EMFILE, now: t0 + UInt64(i) * 100 * Self.ms) == .pause(nanos: 100 * Self.ms, report: nil))
        }
        #expect(b.decide(errno: ENFILE, now: t0 + Self.second - 1) == .pause(nanos: 100 * Self.ms, report: nil))
        // A second after the last report: the next one says 11 pauses (10 quiet ones and itself), with its own errno.
        #expect(b.decide(errno: ENFILE, now: t0 + Self.second) == .pause(nanos: 100 * Self.ms, report: .init(errno: ENFILE, pauses: 11)))
        #expect(b.decide(errno: EMFILE, now: t0 + Self.second + 1) == .pause(nanos: 100 * Self.ms, report: nil))
        // A long quiet spell: the next pause reports at once, counting only itself and the one quiet pause before.
        #expect(b.decide(errno: EMFILE, now: t0 + 60 * Self.second) == .pause(nanos: 100 * Self.ms, report: .init(errno: EMFILE, pauses: 2)))
    }

    @Test("the pause and the report interval are settable")
    func custom() {
        var b = AcceptBackoff(pauseNanos: 7, reportIntervalNanos: 10)
        #expect(b.decide(errno: EMFILE, now: 100) == .pause(nanos: 7, report: .init(errno: EMFILE, pauses: 1)))
        #expect(b.decide(errno: EMFILE, now: 109) == .pause(nanos: 7, report: nil))
        #expect(b.decide(errno: EMFILE, now: 110) == .pause(nanos: 7, report: .init(errno: EMFILE, pauses: 2)))
    }
}
