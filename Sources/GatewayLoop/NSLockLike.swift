import GatewayCore

/// A tiny lock for the rare cold paths that cross loops (picking the next loop, listener bookkeeping).
final class NSLockLike: @unchecked Sendable {
    private let mutex = Locked(())
    func withLock<R>(_ body: () -> R) -> R { mutex.withLock { _ in body() } }
}
