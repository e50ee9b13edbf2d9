/// A failure of the HTTP/2 session: an nghttp2 error code and its text.
public struct HTTP2Error: Error, Sendable, CustomStringConvertible {
    /// The nghttp2 library error code (negative).
    public let code: Int32
    /// What failed, for logs.
    public let message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "HTTP/2 error \(code): \(message)" }
}

/// HTTP/2 error codes (RFC 9113 section 7) used with `resetStream` and reported by `streamClosed`.
public enum HTTP2ErrorCode {
    public static let noError: UInt32 = 0x0
    public static let protocolError: UInt32 = 0x1
    public static let internalError: UInt32 = 0x2
    public static let flowControlError: UInt32 = 0x3
    public static let streamClosed: UInt32 = 0x5
    public static let refusedStream: UInt32 = 0x7
    public static let cancel: UInt32 = 0x8
    public static let enhanceYourCalm: UInt32 = 0xB
}
