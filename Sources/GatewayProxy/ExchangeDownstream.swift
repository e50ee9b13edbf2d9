import GatewayCore

/// What an exchange needs from the side that talks to the client: an HTTP/1.1 connection today, an HTTP/2 stream later.
protocol ExchangeDownstream: AnyObject {
    /// The client's protocol (decides re-framing of the response).
    var clientVersion: HTTPVersion { get }
    /// Whether the client side has bytes queued (the exchange then pauses reading the upstream).
    var isDownstreamBlocked: Bool { get }
    /// An interim (1xx) response head, already rewritten.
    func downstreamInterim(_ head: HTTPResponseHead)
    /// The final response head, already rewritten; `framing` is what the upstream used. Lent, not given (the
    /// callee may change it): the exchange gives its fields to the loop's pool afterwards, for the next heads.
    func downstreamHead(_ head: inout HTTPResponseHead, upstreamFraming: BodyFraming, isHeadRequest: Bool)
    func downstreamBody(_ bytes: UnsafeRawBufferPointer)
    func downstreamEnd(trailers: HTTPHeaders?)
    /// `101` forwarded: from now on both sides are raw bytes.
    func downstreamSwitchProtocols(_ head: HTTPResponseHead)
    func downstreamTunnelBytes(_ bytes: UnsafeRawBufferPointer)
    /// The gateway answers itself (nothing of the response was sent yet).
    func downstreamAnswer(_ answer: GatewayAnswer)
    /// Something broke after the response started: cut the client.
    func downstreamAbort()
    /// Request-body back-pressure toward the client.
    func downstreamPauseRequestBody()
    func downstreamResumeRequestBody()
    /// The exchange is over (response sent or aborted); `record` is filled in for the access log.
    func downstreamFinished(_ exchange: ProxyExchange)
}

/// A connection whose output gathered during a read batch and must be sent when the batch ends.
protocol Corkable: AnyObject {
    func uncork()
}
