import GatewayCore

/// What the request parser found in the bytes it was given.
public enum HTTP1RequestEvent: Sendable {
    /// A complete, validated request head.
    case head(HTTPRequestHead)
    /// Body bytes: indices into the buffer passed to the call that returned this event.
    case body(Range<Int>)
    /// The trailer section of a chunked body (only sent when it has fields).
    case trailers(HTTPHeaders)
    /// The message is complete; the next bytes start the next request (pipelining).
    case end
}
