import Foundation
import Synchronization

/// A gate upstream handler threads wait at until the test opens it (or ~20 s pass, so a failed test cannot hang).
final class TestGate: Sendable {
    private let opened = Atomic<Bool>(false)

    func open() { opened.store(true, ordering: .relaxed) }

    func wait() {
        for _ in 0..<10_000 where !opened.load(ordering: .relaxed) { usleep(2_000) }
    }
}

/// Request pseudo-headers for a GET over h2c.
func h2Get(_ path: String, _ extra: [(String, String)] = []) -> [(String, String)] {
    [(":method", "GET"), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", path)] + extra
}
