#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Delivers POSIX signals as events on a queue instead of async-signal handlers.
public final class SignalWatcher: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "session-gateway.signals")

    public init() {}

    /// Ignores `SIGPIPE` process-wide (writes use MSG_NOSIGNAL too; this covers library calls).
    public static func ignoreSIGPIPE() { signal(SIGPIPE, SIG_IGN) }

    public func watch(_ signo: Int32, handler: @escaping @Sendable () -> Void) {
        signal(signo, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: signo, queue: queue)
        s.setEventHandler(handler: handler)
        s.resume()
        sources.append(s)
    }

    public func cancelAll() {
        for s in sources { s.cancel() }
        sources.removeAll()
    }
}
