#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which one and its errno.
public struct IOError: Error, Sendable, CustomStringConvertible {
    public let errno: Int32
    public let function: String

    public init(errno: Int32, function: String) {
        self.errno = errno
        self.function = function
    }

    public var description: String {
        let msg = strerror(errno).map { String(cString: $0) } ?? "errno \(errno)"
        return "\(function): \(msg)"
    }
}
