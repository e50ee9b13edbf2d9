/// Size bounds the HTTP/1.1 parsers enforce before anything is forwarded.
public struct HTTP1Limits: Sendable {
    /// The whole head (start line, fields, final CRLF); also bounds head plus trailer section. Over it: 431.
    public var maxHeaderBytes: Int
    /// The request target as sent on the request line. Over it: 414.
    public var maxTargetBytes: Int

    public init(maxHeaderBytes: Int = 32768, maxTargetBytes: Int = 8192) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxTargetBytes = maxTargetBytes
    }
}
