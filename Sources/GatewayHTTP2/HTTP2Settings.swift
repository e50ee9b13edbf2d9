/// The SETTINGS the server advertises, plus the local limits the session enforces.
public struct HTTP2Settings: Sendable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may have open at once.
    public var maxConcurrentStreams: UInt32
    /// SETTINGS_INITIAL_WINDOW_SIZE: per-stream request-body window; reopened only as the caller reports `consumed`.
    public var initialWindowSize: UInt32
    /// SETTINGS_MAX_HEADER_LIST_SIZE, also enforced locally (name + value + 32 per field, RFC 9113 6.5.2).
    public var maxHeaderListSize: UInt32
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 extended CONNECT, e.g. WebSocket over HTTP/2).
    public var enableConnectProtocol: Bool
    /// SETTINGS_MAX_FRAME_SIZE: largest frame payload the client may send us.
    public var maxFrameSize: UInt32
    /// Connection-level receive window (sum over all streams of request bytes not yet consumed).
    public var connectionWindowSize: UInt32
    /// `didDrainStream` fires when a stream's buffered response bytes fall below this after reaching it.
    public var responseLowWater: Int
    /// Zero-length DATA frames without END_STREAM a client may send at once (a token bucket refilled by
    /// `emptyDataPerSecond`) before the connection is ended with GOAWAY(ENHANCE_YOUR_CALM). Such frames carry
    /// nothing and cost no flow-control window, only CPU (CVE-2019-9518). nghttp2 counts them among its "glitches"
    /// from 1.67 with these numbers; the 1.52 this is built against does not.
    public var emptyDataBurst: Int
    public var emptyDataPerSecond: Int

    public init(maxConcurrentStreams: UInt32 = 100, initialWindowSize: UInt32 = 65_535,
                maxHeaderListSize: UInt32 = 32 * 1024, enableConnectProtocol: Bool = true,
                maxFrameSize: UInt32 = 16_384, connectionWindowSize: UInt32 = 1 << 20,
                responseLowWater: Int = 64 * 1024, emptyDataBurst: Int = 10_000, emptyDataPerSecond: Int = 330) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
        self.maxHeaderListSize = maxHeaderListSize
        self.enableConnectProtocol = enableConnectProtocol
        self.maxFrameSize = maxFrameSize
        self.connectionWindowSize = connectionWindowSize
        self.responseLowWater = responseLowWater
        self.emptyDataBurst = emptyDataBurst
        self.emptyDataPerSecond = emptyDataPerSecond
    }
}
