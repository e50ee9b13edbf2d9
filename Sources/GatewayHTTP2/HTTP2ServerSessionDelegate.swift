import GatewayCore

/// Receives the per-stream events of an `HTTP2ServerSession`; each stream is one exchange.
///
/// Calls arrive synchronously from inside `receive` or `produceOutput`; the delegate may call back into the session.
public protocol HTTP2ServerSessionDelegate: AnyObject {
    /// A complete, validated request head; `endStream` means no body follows. The head is lent where the session
    /// assembled it, in the stream's state, and is the delegate's to take with `head.take()`: nothing is copied.
    func session(_ s: HTTP2ServerSession, didReceiveHead head: inout HTTPRequestHead, stream: HTTP2StreamState,
                 endStream: Bool)
    /// Request body bytes (valid only during the call); report them with `consumed(streamID:count:)` once passed on.
    func session(_ s: HTTP2ServerSession, didReceiveData data: UnsafeRawBufferPointer, stream: HTTP2StreamState)
    /// Request trailers; `streamEnded` follows.
    func session(_ s: HTTP2ServerSession, didReceiveTrailers trailers: HTTPHeaders, stream: HTTP2StreamState)
    /// The client finished its request (END_STREAM), delivered once per stream, also after a head with `endStream`.
    /// After the delegate resets a stream (`resetStream`), it hears only `streamClosed` for it: no end, DATA or trailers.
    func session(_ s: HTTP2ServerSession, streamEnded stream: HTTP2StreamState)
    /// The stream is gone (done, or RST_STREAM from either side); sent only for streams whose head was delivered.
    func session(_ s: HTTP2ServerSession, streamClosed stream: HTTP2StreamState, errorCode: UInt32)
    /// Buffered response bytes of the stream fell below `HTTP2Settings.responseLowWater`: resume its upstream.
    func session(_ s: HTTP2ServerSession, didDrainStream stream: HTTP2StreamState)
    /// The stream's request head went over `HTTP2Settings.maxHeaderListSize`: it is never delivered, and the
    /// delegate answers it (431); `streamClosed` follows as for a delivered head. The default sends a plain 431
    /// with `sendHeadTooLarge(_:)`.
    func session(_ s: HTTP2ServerSession, headTooLarge stream: HTTP2StreamState)
    /// The object that will carry a new request stream's state (made when its HEADERS begin, before the head is
    /// complete or known to be valid); a subclass may add the delegate's own per-stream fields.
    func session(_ s: HTTP2ServerSession, makeStreamWithID id: Int32) -> HTTP2StreamState
}

extension HTTP2ServerSessionDelegate {
    public func session(_ s: HTTP2ServerSession, didDrainStream stream: HTTP2StreamState) {}
    public func session(_ s: HTTP2ServerSession, headTooLarge stream: HTTP2StreamState) { s.sendHeadTooLarge(stream) }
    public func session(_ s: HTTP2ServerSession, makeStreamWithID id: Int32) -> HTTP2StreamState { HTTP2StreamState(id: id) }
}
