import CTSan
import Synchronization

/// A value behind a `Synchronization.Mutex` that ThreadSanitizer can see: use it instead of `Mutex` everywhere.
///
/// On Linux a contended `Mutex` is handed from one thread to the next by the kernel (FUTEX_LOCK_PI /
/// FUTEX_UNLOCK_PI), out of TSan's sight, so TSan reported races between two properly locked sections (37 of the
/// 45 reports of the first `make test-tsan` run). Each section here is bracketed with `__tsan_acquire` /
/// `__tsan_release` on this object's address, which tells TSan what the futex did. Outside a TSan build the
/// annotations are two not-taken branches (see `CTSan/shim.h`).
public final class Locked<Value: ~Copyable>: Sendable {
    @usableFromInline let mutex: Mutex<Value>

    public init(_ value: consuming sending Value) {
        mutex = Mutex(value)
    }

    /// Runs `body` with the value, holding the lock (as `Mutex.withLock`).
    @inlinable
    public func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        let token = Unmanaged.passUnretained(self).toOpaque()
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            sgw_tsan_acquire(token)
            defer { sgw_tsan_release(token) }
            return try body(&value)
        }
    }
}

/// Whether this process runs under ThreadSanitizer (`Locked`'s annotations are then live).
public var runsUnderThreadSanitizer: Bool { sgw_tsan_active() != 0 }
