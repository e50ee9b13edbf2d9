import GatewayCore

/// What the session tracks for one stream: the request head being assembled and the response bytes waiting to go out.
///
/// Open so the session's user keeps its own per-stream state in the same object (the delegate makes it, see
/// `HTTP2ServerSessionDelegate.session(_:makeStreamWithID:)`): one allocation per stream, and events hand the
/// object over instead of an id to look up again. The session's fields stay internal to this module.
open class HTTP2StreamState {
    public let id: Int32

    // Request side.
    /// The request head as it arrives, handed to the delegate in place when complete. Strings straight away: values
    /// up to 15 bytes (most methods, paths and authorities) are stored inline.
    var head = HTTPRequestHead(method: "", target: "", version: .http2, headers: HTTPHeaders())
    var contentLength: Int?
    var trailers: HTTPHeaders?
    /// name + value + 32 per field of the header block being received (RFC 9113 6.5.2 accounting).
    var headerListBytes = 0
    var headerListTooLarge = false
    /// The delegate has the stream (its head, or its rejection as too large): it hears when the stream closes.
    var headDelivered = false
    var requestEnded = false
    /// Request body bytes handed to the delegate and not yet reported consumed.
    var unconsumed = 0
    /// The head went over the header-list limit (431): body and trailers are dropped; the delegate only answers it.
    var rejected = false
    /// The caller reset the stream (`resetStream`): no more of its request (end, DATA, trailers) is delivered, even
    /// what arrives in the same bytes as the head, before the RST_STREAM has gone out.
    var resetByCaller = false

    // Response side.
    var response = ByteBuffer()
    var responseHeadSent = false
    var responseEnded = false
    var responseTrailers: HTTPHeaders?
    /// The data provider returned NGHTTP2_ERR_DEFERRED and waits for `resume_data`.
    var deferred = false
    var aboveLowWater = false

    /// The stream left the session (closed or reset): calls made with this object no longer do anything.
    var closed = false

    public init(id: Int32) { self.id = id }
}
