import GatewayCore

/// What an exchange needs from the side that talks to the client: an HTTP/1.1 connection (`ClientConnection`) or an
/// HTTP/2 stream (`HTTP2Stream`). The exchange calls these to carry out its state machine's decisions; none of them
/// calls back into the exchange while it runs (a client found gone is reported as its own input, see
/// `ProxyExchange.clientGone`).
protocol ExchangeDownstream: AnyObject {
    /// The client's protocol (decides re-framing of the response).
    var clientVersion: HTTPVersion { get }
    /// Whether the client side has bytes queued (the exchange then pauses reading the upstream).
    var isDownstreamBlocked: Bool { get }
    /// An interim (1xx) response head, already rewritten.
    func downstreamInterim(_ head: HTTPResponseHead)
    /// The final response head, already rewritten; `upstreamFraming` is what the upstream used. Lent, not given (the
    /// callee may change it): the exchange gives its fields to the loop's pool afterwards, for the next heads.
    func downstreamHead(_ head: inout HTTPResponseHead, upstreamFraming: BodyFraming, isHeadRequest: Bool)
    func downstreamBody(_ bytes: UnsafeRawBufferPointer)
    func downstreamEnd(trailers: HTTPHeaders?)
    /// `101` forwarded: from now on both sides are raw bytes.
    func downstreamSwitchProtocols(_ head: HTTPResponseHead)
    func downstreamTunnelBytes(_ bytes: UnsafeRawBufferPointer)
    /// The gateway answers itself (nothing of the response was sent yet); `downstreamFinished` follows.
    func downstreamAnswer(_ answer: GatewayAnswer)
    /// Something broke after the response started: cut the client.
    func downstreamAbort()
    /// Request-body back-pressure toward the client.
    func downstreamPauseRequestBody()
    func downstreamResumeRequestBody()
    /// The exchange is over (response sent, answered, aborted, or its tunnel closed). Called once, by
    /// `ProxyExchange.finish`; not when the downstream reported the client gone itself, having let go already.
    func downstreamFinished(_ exchange: ProxyExchange)
}

/// A connection whose output gathered during a read batch and must be sent when the batch ends.
protocol Corkable: AnyObject {
    func uncork()
}
