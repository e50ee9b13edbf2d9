internal import COpenSSL

/// A TLS failure, with the reason OpenSSL gave (or ours when OpenSSL gave none).
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Human-readable reason; OpenSSL error-queue entries are joined with "; ".
    public var reason: String

    /// Makes an error with a reason of our own.
    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { "TLS error: \(reason)" }
}

extension TLSError {
    /// Empties the OpenSSL error queue of this thread into one error, prefixed by `context`.
    /// `fallback` is used when the queue holds nothing (OpenSSL does not always push an entry).
    static func drainingQueue(context: String? = nil, fallback: String) -> TLSError {
        var parts: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            parts.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        let body = parts.isEmpty ? fallback : parts.joined(separator: "; ")
        if let context { return TLSError(reason: "\(context): \(body)") }
        return TLSError(reason: body)
    }
}
