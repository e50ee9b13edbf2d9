/// One RESP2 reply, as Swift values: what the store's parser hands out and what topology code (Sentinel, Cluster)
/// reads. Built from hiredis's reader; no C type escapes.
public enum RedisReply: Sendable, Equatable {
    /// `+OK`, `+PONG`, `+QUEUED`...
    case status(String)
    /// `-ERR ...`, `-MOVED 3999 127.0.0.1:6381`, `-READONLY ...`: the text after `-`.
    case error(String)
    case integer(Int64)
    /// A bulk string's raw bytes.
    case bulk([UInt8])
    /// `$-1` or `*-1`.
    case null
    case array([RedisReply])

    /// A bulk or status reply as text (UTF-8, lossy); nil for other kinds.
    public var text: String? {
        switch self {
        case .status(let s): s
        case .bulk(let b): String(decoding: b, as: UTF8.self)
        default: nil
        }
    }

    /// The elements of an array reply; nil for other kinds.
    public var elements: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// An integer reply, or a bulk/status one that spells an integer.
    public var integerValue: Int64? {
        switch self {
        case .integer(let i): i
        case .bulk, .status: text.flatMap { Int64($0) }
        default: nil
        }
    }
}
