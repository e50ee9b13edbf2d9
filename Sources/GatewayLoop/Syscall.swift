#if canImport(Glibc)
import Glibc
#endif
import GatewayCore

/// The outcome of a non-blocking system call: done with a count, or it would have blocked.
public enum IOResult<T: Sendable>: Sendable {
    case processed(T)
    case wouldBlock
}

/// The one path every syscall takes: retries EINTR, turns EAGAIN into `.wouldBlock`, throws `IOError` otherwise.
public enum Syscall {
    @inline(__always)
    public static func call(_ function: StaticString, _ body: () -> Int) throws(IOError) -> IOResult<Int> {
        while true {
            let r = body()
            if r >= 0 { return .processed(r) }
            let e = errno
            switch e {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw IOError(errno: e, function: "\(function)")
            }
        }
    }

    /// For calls that never legitimately block (setsockopt, bind, listen...).
    @inline(__always)
    public static func blocking(_ function: StaticString, _ body: () -> Int32) throws(IOError) {
        while true {
            if body() >= 0 { return }
            let e = errno
            if e == EINTR { continue }
            throw IOError(errno: e, function: "\(function)")
        }
    }
}
