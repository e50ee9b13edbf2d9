import Dispatch
import GatewayCore
import Testing

@Suite("Locked")
struct LockedTests {
    /// Memory the lock guards without owning it, as a shard's table or a test's recorder: under
    /// `make test-tsan` any section that TSan saw as unordered with another (a futex hand-over it missed) is a report.
    private final class Unguarded: @unchecked Sendable {
        var count = 0
        var log: [Int] = []
    }

    @Test("contended sections exclude each other, and TSan sees the hand-overs")
    func contendedSectionsExcludeEachOther() {
        let lock = Locked(0)
        let side = Unguarded()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<5_000 {
                lock.withLock { n in
                    n += 1
                    side.count += 1
                    if i % 1_000 == 0 { side.log.append(worker) }
                }
            }
        }
        #expect(lock.withLock { $0 } == 20_000)
        #expect(lock.withLock { _ in side.count } == 20_000)
        #expect(lock.withLock { _ in side.log.count } == 20)
    }

    @Test("an error thrown inside leaves the lock free and the value as the section left it")
    func throwingSectionUnlocks() {
        struct Refused: Error {}
        let lock = Locked([1, 2])
        #expect(throws: Refused.self) {
            try lock.withLock { (v: inout [Int]) throws(Refused) in
                v.append(3)
                throw Refused()
            }
        }
        #expect(lock.withLock { $0 } == [1, 2, 3])
    }
}
