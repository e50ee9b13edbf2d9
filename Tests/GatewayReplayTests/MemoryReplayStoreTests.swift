import Dispatch
import GatewayCore
@testable import GatewayReplay
import Synchronization
import Testing

@Suite struct MemoryReplayStoreTests {
    let clock = ManualClock(wallSeconds: 1_700_000_000)

    @Test func firstUseIsFreshSecondIsReplayed() {
        let store = MemoryReplayStore(maxEntries: 10, clock: clock)
        let until = clock.wallSeconds() + 300
        #expect(store.admit(app: "app", jti: "a", until: until) == .fresh)
        #expect(store.admit(app: "app", jti: "a", until: until) == .replayed)
        #expect(store.entryCount == 1)
    }

    @Test func completionRunsBeforeAdmitReturns() {
        let store = MemoryReplayStore(maxEntries: 10, clock: clock)
        let seen = Locked<ReplayAdmission?>(nil)
        store.admit(app: "app", jti: "a", until: clock.wallSeconds() + 5) { answer in seen.withLock { $0 = answer } }
        #expect(seen.withLock { $0 } == .fresh)
    }

    @Test func concurrentUsesOfOneTokenAdmitExactlyOne() {
        let store = MemoryReplayStore(maxEntries: 1000, clock: clock)
        let until = clock.wallSeconds() + 300
        let fresh = Atomic<Int>(0)
        let replayed = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<1000 {
                switch store.admit(app: "app", jti: "same-jti", until: until) {
                case .fresh: fresh.add(1, ordering: .relaxed)
                case .replayed: replayed.add(1, ordering: .relaxed)
                default: break
                }
            }
        }
        #expect(fresh.load(ordering: .relaxed) == 1)
        #expect(replayed.load(ordering: .relaxed) == 7999)
    }

    @Test func distinctTokensFromManyThreadsAreAllFresh() {
        let store = MemoryReplayStore(maxEntries: 100_000, clock: clock)
        let until = clock.wallSeconds() + 300
        let fresh = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for n in 0..<2000 where store.admit(app: "app", jti: "jti-\(thread)-\(n)", until: until) == .fresh {
                fresh.add(1, ordering: .relaxed)
            }
        }
        #expect(fresh.load(ordering: .relaxed) == 16_000)
        #expect(store.entryCount == 16_000)
    }

    @Test func expiryFreesEntries() {
        let store = MemoryReplayStore(maxEntries: 1000, clock: clock)
        let until = clock.wallSeconds() + 60
        for n in 0..<500 { #expect(store.admit(app: "app", jti: "t\(n)", until: until) == .fresh) }
        #expect(store.entryCount == 500)
        clock.advance(seconds: 60)  // now == until: still live
        #expect(store.admit(app: "app", jti: "t0", until: until) == .replayed)
        clock.advance(seconds: 1)   // past until
        store.sweep(now: clock.wallSeconds())
        #expect(store.entryCount == 0)
        #expect(store.admit(app: "app", jti: "t0", until: clock.wallSeconds() + 60) == .fresh)
        #expect(store.entryCount == 1)
    }

    @Test func expiryDuringAdmitsWithoutExplicitSweep() {
        let store = MemoryReplayStore(maxEntries: 1000, clock: clock)
        let start = clock.wallSeconds()
        #expect(store.admit(app: "app", jti: "short", until: start + 2) == .fresh)
        #expect(store.admit(app: "app", jti: "long", until: start + 5000) == .fresh)  // beyond one ring turn
        clock.advance(seconds: 3)
        #expect(store.admit(app: "app", jti: "short", until: clock.wallSeconds() + 2) == .fresh)
        #expect(store.admit(app: "app", jti: "long", until: start + 5000) == .replayed)
        clock.advance(seconds: 2000)
        #expect(store.admit(app: "app", jti: "long", until: start + 5000) == .replayed)
        clock.advance(seconds: 3001)
        #expect(store.admit(app: "app", jti: "long", until: clock.wallSeconds() + 1) == .fresh)
    }

    @Test func boundHoldsAndFreesAfterExpiry() {
        let store = MemoryReplayStore(maxEntries: 100, clock: clock)
        let until = clock.wallSeconds() + 30
        for n in 0..<100 { #expect(store.admit(app: "app", jti: "j\(n)", until: until) == .fresh) }
        #expect(store.admit(app: "app", jti: "one-more", until: until) == .full)
        #expect(store.admit(app: "app", jti: "j7", until: until) == .replayed)  // known ids still answered
        #expect(store.entryCount == 100)
        clock.advance(seconds: 31)
        #expect(store.admit(app: "app", jti: "one-more", until: clock.wallSeconds() + 30) == .fresh)
        #expect(store.entryCount == 1)
    }

    @Test func boundHoldsUnderConcurrency() {
        let store = MemoryReplayStore(maxEntries: 1000, clock: clock)
        let until = clock.wallSeconds() + 30
        let fresh = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for n in 0..<500 where store.admit(app: "app", jti: "\(thread)/\(n)", until: until) == .fresh {
                fresh.add(1, ordering: .relaxed)
            }
        }
        #expect(fresh.load(ordering: .relaxed) == 1000)
        #expect(store.entryCount == 1000)
    }

    @Test func appsAreSeparate() {
        let store = MemoryReplayStore(maxEntries: 10, clock: clock)
        let until = clock.wallSeconds() + 300
        #expect(store.admit(app: "app-one", jti: "same", until: until) == .fresh)
        #expect(store.admit(app: "app-two", jti: "same", until: until) == .fresh)
        #expect(store.admit(app: "ab", jti: "c", until: until) == .fresh)
        #expect(store.admit(app: "a", jti: "bc", until: until) == .fresh)
        #expect(store.admit(app: "app-two", jti: "same", until: until) == .replayed)
    }

    @Test func pastExpiryIsNotRecorded() {
        let store = MemoryReplayStore(maxEntries: 10, clock: clock)
        #expect(store.admit(app: "app", jti: "old", until: clock.wallSeconds() - 1) == .fresh)
        #expect(store.entryCount == 0)
    }

    @Test func zeroBoundIsAlwaysFull() {
        let store = MemoryReplayStore(maxEntries: 0, clock: clock)
        #expect(store.admit(app: "app", jti: "x", until: clock.wallSeconds() + 10) == .full)
    }

    @Test func growthAndDeletionKeepEveryEntryFindable() {
        let store = MemoryReplayStore(maxEntries: 50_000, clock: clock)
        let start = clock.wallSeconds()
        // Interleave lifetimes so deletions punch holes in probe runs that later lookups must cross.
        for n in 0..<20_000 {
            #expect(store.admit(app: "app", jti: "k\(n)", until: start + Int64(1 + n % 7)) == .fresh)
        }
        clock.advance(seconds: 4)
        store.sweep(now: clock.wallSeconds())
        var live = 0
        for n in 0..<20_000 {
            let answer = store.admit(app: "app", jti: "k\(n)", until: clock.wallSeconds() + 100)
            if 1 + n % 7 >= 4 {
                #expect(answer == .replayed)
                live += 1
            } else {
                #expect(answer == .fresh)
            }
        }
        #expect(store.entryCount == 20_000)
        #expect(live > 0)
    }

    @Test func isReadyIsTrue() {
        let store = MemoryReplayStore(maxEntries: 1, clock: clock)
        let ready = Locked(false)
        store.isReady { value in ready.withLock { $0 = value } }
        #expect(ready.withLock { $0 })
    }
}
