import GatewayCore

/// Receives the per-stream events of an `HTTP2ServerSession`; each stream is one exchange.
///
/// Calls arrive synchronously from inside `receive` or `produceOutput`; the delegate may call back into the session.
public protocol HTTP2ServerSessionDelegate: AnyObject {
    /// A complete, validated request head; `endStream` means no body follows. The head is lent where the session
    /// assembled it, in the stream's state, and is the delegate's to take with `head.take()`: nothing is copied.
    func session(_ s: HTTP2ServerSession, didReceiveHead head: inout HTTPRequestHead, streamID: Int32, endStream: Bool)
    /// Request body bytes (valid only during the call); report them with `consumed(streamID:count:)` once passed on.
    func session(_ s: HTTP2ServerSession, didReceiveData data: UnsafeRawBufferPointer, streamID: Int32)
    /// Request trailers; `streamEnded` follows.
    func session(_ s: HTTP2ServerSession, didReceiveTrailers trailers: HTTPHeaders, streamID: Int32)
    /// The client finished its request (END_STREAM), delivered once per stream, also after a head with `endStream`.
    func session(_ s: HTTP2ServerSession, streamEnded streamID: Int32)
    /// The stream is gone (done, or RST_STREAM from either side); sent only for streams whose head was delivered.
    func session(_ s: HTTP2ServerSession, streamClosed streamID: Int32, errorCode: UInt32)
    /// Buffered response bytes of the stream fell below `HTTP2Settings.responseLowWater`: resume its upstream.
    func session(_ s: HTTP2ServerSession, didDrainStream streamID: Int32)
}

extension HTTP2ServerSessionDelegate {
    public func session(_ s: HTTP2ServerSession, didDrainStream streamID: Int32) {}
}
