#if canImport(Glibc)
import Glibc
#endif
import GatewayCore

/// Where finished access-log lines go (stdout in the product, a collector in tests).
public protocol AccessLogWriter: Sendable {
    func writeLines(_ bytes: [UInt8])
}

/// Writes whole batches of lines to standard output; the lock is taken once per batch, never per request.
public final class StdoutAccessLogWriter: AccessLogWriter {
    private let lock = Locked(())

    public init() {}

    public func writeLines(_ bytes: [UInt8]) {
        lock.withLock { _ in
            bytes.withUnsafeBytes { raw in
                var off = 0
                while off < raw.count {
                    let n = Glibc.write(1, raw.baseAddress?.advanced(by: off), raw.count - off)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    off += n
                }
            }
        }
    }
}

/// A per-loop batch of access-log lines, flushed when large or on the loop's next tick.
final class AccessLogBuffer {
    private var bytes: [UInt8] = []
    private let writer: any AccessLogWriter

    init(writer: any AccessLogWriter) { self.writer = writer }

    func write(_ record: AccessLogRecord) {
        record.appendJSON(to: &bytes)
        bytes.append(0x0A)
        if bytes.count > 16 * 1024 { flush() }
    }

    func flush() {
        guard !bytes.isEmpty else { return }
        writer.writeLines(bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}
