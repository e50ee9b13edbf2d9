import GatewayCore

/// What the response parser found in the bytes it was given.
public enum HTTP1ResponseEvent: Sendable {
    /// A validated status line plus fields; 1xx heads too (a final head follows, except after 101).
    case head(HTTPResponseHead)
    /// Body bytes: indices into the buffer passed to the call that returned this event.
    case body(Range<Int>)
    /// The trailer section of a chunked body (only sent when it has fields).
    case trailers(HTTPHeaders)
    /// The response is complete (after a 101: the connection now carries the upgraded protocol).
    case end
}
