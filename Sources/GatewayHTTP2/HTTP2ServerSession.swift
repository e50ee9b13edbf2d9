internal import CNghttp2
import GatewayCore

/// The one owner of a server-side `nghttp2_session`: bytes from the client in, delegate events out, frames for the client out.
///
/// No sockets: the caller feeds `receive` and drains `produceOutput`. Not thread-safe; use it on one loop.
public final class HTTP2ServerSession {
    let handle: OpaquePointer
    let settings: HTTP2Settings
    /// Strong and constant: an unowned reference cost a checked retain and a release on each event (four per
    /// request), a weak one sends every retain and release of the delegate down the runtime's slow path. A delegate
    /// that owns the session breaks the cycle by dropping the session when it is done with it.
    let delegate: any HTTP2ServerSessionDelegate
    var streams = StreamMap<HTTP2StreamState>()
    /// The stream whose header block is being decoded (`headerTargetID`): each field's callback finds it without a
    /// dictionary lookup, and without a retain and a release. Unmanaged, not owned: it is set only to a state held
    /// in `streams`, and cleared when that stream leaves `streams` (`streamClosed`) and when its block ends.
    var headerTarget: Unmanaged<HTTP2StreamState>?
    var headerTargetID: Int32 = 0
    /// Streams whose buffered response fell below the low-water mark during `mem_send`; told after it returns.
    var drained: [Int32] = []
    /// A shutdown notice went out; the final GOAWAY follows the PING acknowledgement (one round trip later).
    var gracefulShutdownPending = false
    var finalGoAwaySubmitted = false
    /// A fatal library error during output; the connection is finished.
    var failed = false
    /// The array `produceOutput` is filling, while it runs: where `writeResponseData` puts DATA frames.
    var outputSink: UnsafeMutablePointer<[UInt8]>?
    /// The size of `outputSink` past which `produceOutput` stops asking for frames.
    var outputStop = 0
    /// Reused for every response head: building one from empty costs two allocations.
    private var headBlock = NGHeaderBlock()
    /// Response buffers of closed streams, emptied, for the next streams: one allocation less per stream.
    var spareResponseBuffers: [ByteBuffer] = []
    /// How many spare buffers are kept; more streams than this at once allocate their own.
    static let maxSpareResponseBuffers = 32
    /// The last `:path` and `:authority` received, handed out again while clients repeat them (see `reuse`).
    var lastPath = ""
    var lastAuthority = ""
    /// Where request heads get their field arrays: the loop's pool, which finished exchanges give theirs back to.
    let fieldsPool: HeaderFieldsPool
    /// Reads the time for the empty-DATA token bucket.
    let clock: any Clock
    /// Empty DATA frames the client may still send (see `HTTP2Settings.emptyDataBurst`), and the second, on
    /// `clock`'s monotonic scale, the bucket was last refilled.
    var emptyDataTokens: Int
    var emptyDataRefilledAt: UInt64
    /// The connection is being ended with GOAWAY(ENHANCE_YOUR_CALM) for a flood.
    var calmedDown = false

    /// Creates the session and queues the server SETTINGS; the delegate is held strongly (see `delegate`).
    public init(settings: HTTP2Settings, delegate: HTTP2ServerSessionDelegate,
                fieldsPool: HeaderFieldsPool = HeaderFieldsPool(), clock: any Clock = SystemClock()) throws(HTTP2Error) {
        self.settings = settings
        self.delegate = delegate
        self.fieldsPool = fieldsPool
        self.clock = clock
        emptyDataTokens = settings.emptyDataBurst
        emptyDataRefilledAt = clock.monotonicNanos() / 1_000_000_000
        let callbacks = try makeServerCallbacks()
        let option = try NGOption()
        // Flow control follows the caller: windows reopen only when it reports bytes passed on.
        nghttp2_option_set_no_auto_window_update(option.handle, 1)
        // The gateway never looks at a stream once it has closed; nghttp2 would otherwise keep closed streams
        // around for the RFC 7540 priority tree, which the SETTINGS below turn off.
        nghttp2_option_set_no_closed_streams(option.handle, 1)
        // With SETTINGS_NO_RFC7540_PRIORITIES sent, nghttp2 skips PRIORITY frames unread, so one on stream 0 or a
        // stream depending on itself went unanswered (RFC 9113 5.3.1 and 6.3 want PROTOCOL_ERROR; h2spec 5.3.1/2 and
        // 6.3/1 failed). With this fallback, a client that did not send the setting itself has its PRIORITY frames
        // checked (and honoured, minimally), as nghttpx does. Closed streams are still dropped at once. A client that
        // sent the setting has its PRIORITY frames skipped: HTTP2PriorityTests pins the checks, since newer nghttp2
        // releases drop RFC 7540 priorities altogether and this option with them.
        nghttp2_option_set_server_fallback_rfc7540_priorities(option.handle, 1)
        var p: OpaquePointer?
        let rv = nghttp2_session_server_new2(&p, callbacks.handle, nil, option.handle)
        guard rv == 0, let p else { throw HTTP2Error(nghttp2: rv, "nghttp2_session_server_new2") }
        handle = p
        nghttp2_session_set_user_data(handle, Unmanaged.passUnretained(self).toOpaque())

        var entries: [nghttp2_settings_entry] = [
            .init(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: settings.maxConcurrentStreams),
            .init(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: settings.initialWindowSize),
            .init(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: settings.maxHeaderListSize),
            .init(settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue), value: settings.maxFrameSize),
            // RFC 9218 2.1: no RFC 7540 priority signals (deprecated by RFC 9113 5.3.2). nghttp2 then schedules by
            // RFC 9218 urgency for clients that send the setting too, and by its minimal RFC 7540 fallback (see the
            // option above) for the others, as nghttpx does.
            .init(settings_id: Int32(NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES.rawValue), value: 1),
        ]
        if settings.enableConnectProtocol {
            entries.append(.init(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL.rawValue), value: 1))
        }
        let srv = nghttp2_submit_settings(handle, UInt8(NGHTTP2_FLAG_NONE.rawValue), entries, entries.count)
        guard srv == 0 else { throw HTTP2Error(nghttp2: srv, "nghttp2_submit_settings") }
        if settings.connectionWindowSize > 65_535 {
            let wrv = nghttp2_session_set_local_window_size(handle, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0,
                                                            Int32(clamping: settings.connectionWindowSize))
            guard wrv == 0 else { throw HTTP2Error(nghttp2: wrv, "nghttp2_session_set_local_window_size") }
        }
    }

    deinit { nghttp2_session_del(handle) }

    /// Feeds bytes from the client (the preface first); throws on a fatal connection error (flush output, then close).
    ///
    /// Protocol errors nghttp2 answers itself (a GOAWAY is queued) do not throw: `wantsRead` and `wantsWrite` turn
    /// false once the GOAWAY has been produced.
    @discardableResult
    public func receive(_ bytes: UnsafeRawBufferPointer) throws(HTTP2Error) -> Int {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        let n = nghttp2_session_mem_recv(handle, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        if n < 0 {
            let code = Int32(truncatingIfNeeded: n)
            // nghttp2's flood guards (more than 1000 SETTINGS/PING ACKs queued, more than 8 CONTINUATION frames in
            // one header block) end the session without queueing a GOAWAY: the client saw only a closed socket.
            // The session is still consistent (the guard fires before the frame is acted on), so tell the client
            // why, as RFC 9113 5.4.1 asks, before the connection closes.
            if code == NGHTTP2_ERR_FLOODED.rawValue || code == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS.rawValue {
                calmDown()
            }
            throw HTTP2Error(nghttp2: code, "nghttp2_session_mem_recv")
        }
        return n
    }

    /// Ends the connection for a flood: GOAWAY(ENHANCE_YOUR_CALM) with the last stream processed, nothing read after.
    func calmDown() {
        guard !calmedDown else { return }
        calmedDown = true
        _ = nghttp2_session_terminate_session(handle, HTTP2ErrorCode.enhanceYourCalm)
    }

    /// Counts a zero-length DATA frame without END_STREAM against the token bucket; past it, `calmDown`.
    /// The same bucket as nghttp2's `nghttp2_ratelim`: whole seconds, refilled at most to the burst.
    func emptyDataReceived() {
        let now = clock.monotonicNanos() / 1_000_000_000
        if now > emptyDataRefilledAt {
            let refill = (now - emptyDataRefilledAt).multipliedReportingOverflow(by: UInt64(clamping: settings.emptyDataPerSecond))
            emptyDataTokens = refill.overflow || refill.partialValue >= UInt64(clamping: settings.emptyDataBurst)
                ? settings.emptyDataBurst : min(settings.emptyDataBurst, emptyDataTokens + Int(refill.partialValue))
            emptyDataRefilledAt = now
        }
        if emptyDataTokens > 0 {
            emptyDataTokens -= 1
        } else {
            calmDown()
        }
    }

    /// Appends frames for the client to `out`, stopping once `limit` bytes were added (it may overshoot by one frame).
    public func produceOutput(into out: inout [UInt8], limit: Int) {
        withUnsafeMutablePointer(to: &out) { sink in
            // DATA frames are written into `out` by `writeResponseData` from inside `mem_send`; the other frames
            // come back from it. Both land in the order nghttp2 sends them.
            outputSink = sink
            outputStop = sink.pointee.count + limit
            defer { outputSink = nil }
            while sink.pointee.count < outputStop && !failed {
                var p: UnsafePointer<UInt8>?
                let n = nghttp2_session_mem_send(handle, &p)
                if n < 0 { failed = true; break }
                // 0 also after DATA frames went out through writeResponseData: nothing more is queued, or the
                // output reached `outputStop` (the callback paused nghttp2).
                guard n > 0, let p else { break }
                // Most frames are a few dozen bytes (a response's HEADERS): copied in place, not through the
                // generic sequence append.
                sink.pointee.appendUninitialized(n) { d in Bytes.copy(d, p, count: n) }
            }
        }
        notifyDrained()
    }

    /// True while the session expects more bytes from the client.
    public var wantsRead: Bool { !failed && nghttp2_session_want_read(handle) != 0 }
    /// True while frames are waiting for `produceOutput` (deferred streams without new data do not count).
    public var wantsWrite: Bool { !failed && nghttp2_session_want_write(handle) != 0 }

    /// Streams whose request head reached the delegate and which are not closed yet.
    public var openStreams: [HTTP2StreamState] { streams.entries.compactMap { $0.value.headDelivered ? $0.value : nil } }
    public var openStreamCount: Int { openStreams.count }

    /// Queues the response head (`:status` plus lower-cased fields, connection-specific ones dropped).
    /// `contentLength`, when given, is sent as a `content-length` field after the head's own fields.
    public func sendResponseHead(streamID: Int32, head: HTTPResponseHead, contentLength: Int? = nil, endStream: Bool) {
        guard let st = streams[streamID] else { return }
        sendResponseHead(st, head: head, contentLength: contentLength, endStream: endStream)
    }

    /// `sendResponseHead(streamID:...)` for the stream's own object (no lookup); nothing once the stream is closed.
    public func sendResponseHead(_ st: HTTP2StreamState, head: HTTPResponseHead, contentLength: Int? = nil,
                                 endStream: Bool) {
        guard !st.closed else { return }
        let streamID = st.id
        var block = headBlock
        headBlock = NGHeaderBlock()
        defer { block.reset(); headBlock = block }
        block.append(":status", decimal: head.status)
        // Values are read where they lie, in the head's fields, during the submit call (nghttp2 copies them).
        block.appendForwardable(head.headers, valuesInPlace: true)
        if let n = contentLength { block.append("content-length", decimal: n) }
        if head.isInformational {
            _ = block.withNV(values: head.headers.storage) { nva, n in
                nghttp2_submit_headers(handle, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, nil, nva, n, nil)
            }
            return
        }
        st.responseHeadSent = true
        if endStream {
            st.responseEnded = true
            _ = block.withNV(values: head.headers.storage) { nva, n in
                nghttp2_submit_response(handle, streamID, nva, n, nil)
            }
        } else {
            var provider = makeResponseDataProvider()
            _ = block.withNV(values: head.headers.storage) { nva, n in
                nghttp2_submit_response(handle, streamID, nva, n, &provider)
            }
        }
    }

    /// Queues response body bytes (copied); returns the bytes now buffered for the stream, 0 if the stream is gone.
    @discardableResult
    public func sendData(streamID: Int32, bytes: UnsafeRawBufferPointer, endStream: Bool) -> Int {
        guard let st = streams[streamID] else { return 0 }
        return sendData(st, bytes: bytes, endStream: endStream)
    }

    /// `sendData(streamID:...)` for the stream's own object (no lookup).
    @discardableResult
    public func sendData(_ st: HTTP2StreamState, bytes: UnsafeRawBufferPointer, endStream: Bool) -> Int {
        guard !st.closed, !st.responseEnded else { return 0 }
        st.response.write(bytes)
        if endStream { st.responseEnded = true }
        if st.response.readableBytes >= settings.responseLowWater { st.aboveLowWater = true }
        resumeIfDeferred(st)
        return st.response.readableBytes
    }

    /// Queues response trailers; they end the stream after the buffered body.
    public func sendTrailers(streamID: Int32, trailers: HTTPHeaders) {
        guard let st = streams[streamID] else { return }
        sendTrailers(st, trailers: trailers)
    }

    /// `sendTrailers(streamID:...)` for the stream's own object (no lookup).
    public func sendTrailers(_ st: HTTP2StreamState, trailers: HTTPHeaders) {
        guard !st.closed, !st.responseEnded else { return }
        st.responseTrailers = trailers
        st.responseEnded = true
        resumeIfDeferred(st)
    }

    /// Response bytes of the stream not yet handed to nghttp2 output.
    public func bufferedBytes(streamID: Int32) -> Int { streams[streamID]?.response.readableBytes ?? 0 }

    /// `bufferedBytes(streamID:)` for the stream's own object (no lookup).
    public func bufferedBytes(_ st: HTTP2StreamState) -> Int { st.closed ? 0 : st.response.readableBytes }

    /// Reports request body bytes passed on, which reopens the flow-control windows for the client.
    public func consumed(streamID: Int32, count: Int) {
        guard let st = streams[streamID] else { return }
        consumed(st, count: count)
    }

    /// `consumed(streamID:count:)` for the stream's own object (no lookup).
    public func consumed(_ st: HTTP2StreamState, count: Int) {
        guard count > 0, !st.closed else { return }
        let n = min(count, st.unconsumed)
        st.unconsumed -= n
        _ = nghttp2_session_consume(handle, st.id, n)
    }

    /// Sends RST_STREAM with `errorCode` and drops the stream's buffered response.
    public func resetStream(streamID: Int32, errorCode: UInt32) {
        if let st = streams[streamID] {
            st.response.clear()
            st.responseEnded = true
            st.resetByCaller = true
        }
        _ = nghttp2_submit_rst_stream(handle, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
    }

    /// Starts shutdown: graceful sends a shutdown notice and a PING, then the final GOAWAY when the PING returns;
    /// otherwise the final GOAWAY (last processed stream id, NO_ERROR) goes now. Open streams may finish either way.
    public func goAway(graceful: Bool) {
        if graceful && !gracefulShutdownPending && !finalGoAwaySubmitted {
            if nghttp2_submit_shutdown_notice(handle) == 0 {
                gracefulShutdownPending = true
                _ = nghttp2_submit_ping(handle, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
                return
            }
        }
        submitFinalGoAway()
    }

    func submitFinalGoAway() {
        guard !finalGoAwaySubmitted else { return }
        finalGoAwaySubmitted = true
        gracefulShutdownPending = false
        _ = nghttp2_submit_goaway(handle, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(handle),
                                  HTTP2ErrorCode.noError, nil, 0)
    }

    private func resumeIfDeferred(_ st: HTTP2StreamState) {
        guard st.deferred else { return }
        st.deferred = false
        _ = nghttp2_session_resume_data(handle, st.id)
    }

    private func notifyDrained() {
        while !drained.isEmpty {
            let ids = drained
            drained.removeAll()
            for id in ids { if let st = streams[id] { delegate.session(self, didDrainStream: st) } }
        }
    }
}
