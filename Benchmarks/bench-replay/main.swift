#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import GatewayCore
import GatewayReplay

/// Memory and throughput of `MemoryReplayStore` at one million entries.
enum ReplayBenchmark {
    static let entries = 1_000_000

    /// Resident set size from `/proc/self/statm` (second field, in pages).
    static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, Int32(line.count), file) != nil else { return 0 }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }

    static func jti(_ n: Int) -> String {
        // Shaped like a UUID (36 bytes) so hashing cost matches real tokens.
        let hex = String(n, radix: 16)
        return "6f9619ff-8b86-4011-b42d-" + String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }

    static func seconds(_ start: UInt64, _ end: UInt64) -> Double { Double(end - start) / 1e9 }

    static func run() {
        let clock = SystemClock()
        let app = "1f3b5d7e9a2c4e6f8a0b2d4f6a8c0e2f"  // a client id of realistic length
        let until = clock.wallSeconds() + 300

        // Memory: RSS growth while filling one million entries.
        let before = residentBytes()
        let store = MemoryReplayStore(maxEntries: entries, clock: clock)
        for n in 0..<entries where store.admit(app: app, jti: jti(n), until: until) != .fresh {
            print("unexpected non-fresh answer at \(n)")
            return
        }
        let after = residentBytes()
        let full = store.admit(app: app, jti: "one-too-many", until: until)
        print("entries:                \(store.entryCount)  (next admit: \(full))")
        print("RSS growth:             \((after - before) / 1_048_576) MiB = \(Double(after - before) / Double(entries)) bytes/entry")
        print("table+buckets footprint: \(Double(store.footprintBytes) / Double(entries)) bytes/entry")

        // Throughput: identifiers prepared up front so only the store is timed.
        let ids = (0..<entries).map(jti)
        let single = MemoryReplayStore(maxEntries: 2 * entries, clock: clock)
        var t0 = clock.monotonicNanos()
        for id in ids { _ = single.admit(app: app, jti: id, until: until) }
        var t1 = clock.monotonicNanos()
        print("1 thread, fresh:        \(Int(Double(entries) / seconds(t0, t1))) admits/s")
        t0 = clock.monotonicNanos()
        for id in ids { _ = single.admit(app: app, jti: id, until: until) }
        t1 = clock.monotonicNanos()
        print("1 thread, replayed:     \(Int(Double(entries) / seconds(t0, t1))) admits/s")

        let shared = MemoryReplayStore(maxEntries: 2 * entries, clock: clock)
        let half = entries / 2
        t0 = clock.monotonicNanos()
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            for n in (part * half)..<((part + 1) * half) { _ = shared.admit(app: app, jti: ids[n], until: until) }
        }
        t1 = clock.monotonicNanos()
        print("2 threads, fresh:       \(Int(Double(entries) / seconds(t0, t1))) admits/s (\(shared.entryCount) entries)")
    }
}

ReplayBenchmark.run()
