#if canImport(Glibc)
import Glibc
#endif
internal import CNghttp2
import GatewayCore

// nghttp2 calls these C functions; each recovers the session from user_data and forwards to a method.

/// Runs `body` on the session behind `userData`, or returns `failure` without one.
///
/// No retain and release around the call: nghttp2 calls back only from inside `nghttp2_session_mem_recv`/`mem_send`,
/// which only the session's own methods call, so the session is alive throughout.
@inline(__always)
private func withOwner<R>(_ userData: UnsafeMutableRawPointer?, _ failure: R, _ body: (HTTP2ServerSession) -> R) -> R {
    guard let userData else { return failure }
    return Unmanaged<HTTP2ServerSession>.fromOpaque(userData)._withUnsafeGuaranteedRef(body)
}

private let callbackFailure = NGHTTP2_ERR_CALLBACK_FAILURE.rawValue

private func onBeginHeaders(_ s: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?, _ ud: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame else { return callbackFailure }
    return withOwner(ud, callbackFailure) { o in
        o.beginHeaders(frame)
        return 0
    }
}

private func onHeader(_ s: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?, _ name: UnsafePointer<UInt8>?, _ namelen: Int,
                      _ value: UnsafePointer<UInt8>?, _ valuelen: Int, _ flags: UInt8, _ ud: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame else { return callbackFailure }
    return withOwner(ud, callbackFailure) { o in
        // A field the session refuses (see `store`) resets the stream, as nghttp2's own checks do.
        o.header(frame, name: UnsafeBufferPointer(start: name, count: namelen),
                 value: UnsafeBufferPointer(start: value, count: valuelen)) ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
    }
}

/// A field nghttp2 would silently drop (bad name or value bytes): reset the stream instead, so nothing ambiguous passes.
private func onInvalidHeader(_ s: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?, _ name: UnsafePointer<UInt8>?, _ namelen: Int,
                             _ value: UnsafePointer<UInt8>?, _ valuelen: Int, _ flags: UInt8, _ ud: UnsafeMutableRawPointer?) -> Int32 {
    NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
}

private func onFrameRecv(_ s: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?, _ ud: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame else { return callbackFailure }
    return withOwner(ud, callbackFailure) { o in
        o.frameReceived(frame)
        return 0
    }
}

private func onDataChunkRecv(_ s: OpaquePointer?, _ flags: UInt8, _ streamID: Int32, _ data: UnsafePointer<UInt8>?, _ len: Int,
                             _ ud: UnsafeMutableRawPointer?) -> Int32 {
    withOwner(ud, callbackFailure) { o in
        o.dataChunk(streamID, UnsafeRawBufferPointer(start: data, count: len))
        return 0
    }
}

private func onStreamClose(_ s: OpaquePointer?, _ streamID: Int32, _ errorCode: UInt32, _ ud: UnsafeMutableRawPointer?) -> Int32 {
    withOwner(ud, callbackFailure) { o in
        o.streamClosed(streamID, errorCode: errorCode)
        return 0
    }
}

private func onFrameSend(_ s: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?, _ ud: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame else { return callbackFailure }
    return withOwner(ud, callbackFailure) { o in
        o.frameSent(frame)
        return 0
    }
}

/// The data provider of every response body: serves the stream's buffer, defers when it is empty.
private func serverReadCallback(_ s: OpaquePointer?, _ streamID: Int32, _ buf: UnsafeMutablePointer<UInt8>?, _ length: Int,
                        _ flags: UnsafeMutablePointer<UInt32>?, _ source: UnsafeMutablePointer<nghttp2_data_source>?,
                        _ ud: UnsafeMutableRawPointer?) -> Int {
    guard let buf, let flags else { return Int(callbackFailure) }
    return withOwner(ud, Int(callbackFailure)) { o in
        o.readResponse(streamID, into: UnsafeMutableRawBufferPointer(start: buf, count: length), flags: flags)
    }
}

/// Writes a DATA frame whose payload `serverReadCallback` left in the stream's buffer (NO_COPY).
private func serverSendDataCallback(_ s: OpaquePointer?, _ frame: UnsafeMutablePointer<nghttp2_frame>?,
                                    _ framehd: UnsafePointer<UInt8>?, _ length: Int,
                                    _ source: UnsafeMutablePointer<nghttp2_data_source>?, _ ud: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame, let framehd else { return callbackFailure }
    return withOwner(ud, callbackFailure) { o in
        o.writeResponseData(frame.pointee.hd.stream_id, header: framehd, length: length, padding: frame.pointee.data.padlen)
    }
}

/// The data provider attached to every response with a body.
func makeResponseDataProvider() -> nghttp2_data_provider {
    nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: serverReadCallback)
}

/// Builds the callback table of a server session.
func makeServerCallbacks() throws(HTTP2Error) -> NGSessionCallbacks {
    let cb = try NGSessionCallbacks()
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb.handle, onBeginHeaders)
    nghttp2_session_callbacks_set_on_header_callback(cb.handle, onHeader)
    nghttp2_session_callbacks_set_on_invalid_header_callback(cb.handle, onInvalidHeader)
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb.handle, onFrameRecv)
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb.handle, onDataChunkRecv)
    nghttp2_session_callbacks_set_on_stream_close_callback(cb.handle, onStreamClose)
    nghttp2_session_callbacks_set_send_data_callback(cb.handle, serverSendDataCallback)
    nghttp2_session_callbacks_set_on_frame_send_callback(cb.handle, onFrameSend)
    return cb
}

extension HTTP2ServerSession {
    func beginHeaders(_ frame: UnsafePointer<nghttp2_frame>) {
        guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) else { return }
        let id = frame.pointee.hd.stream_id
        if frame.pointee.headers.cat.rawValue == NGHTTP2_HCAT_REQUEST.rawValue {
            let st = delegate.session(self, makeStreamWithID: id)
            if let spare = spareResponseBuffers.popLast() { st.response = spare }
            if let spare = fieldsPool.take() { st.head.headers = spare }
            streams[id] = st
            headerTarget = Unmanaged.passUnretained(st)
            headerTargetID = id
        } else if let st = streams[id] {
            st.trailers = HTTPHeaders()
            st.headerListBytes = 0
            headerTarget = Unmanaged.passUnretained(st)
            headerTargetID = id
        }
    }

    /// False when the field makes the request malformed: the stream is then reset and its head never delivered.
    func header(_ frame: UnsafePointer<nghttp2_frame>, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) else { return true }
        let sid = frame.pointee.hd.stream_id
        if let t = headerTarget, headerTargetID == sid {
            // Alive: `streams` holds it, and nothing here removes it.
            return t._withUnsafeGuaranteedRef { store($0, name: name, value: value) }
        } else if let st = streams[sid] {
            return store(st, name: name, value: value)
        }
        return true
    }

    /// An HTTP/1.1 request-target's bytes (visible ASCII, no `#`), as `RequestLine` wants them: nghttp2 lets any
    /// byte from 0x80 up through in `:path`, which the upstream hop could not carry, and which the `String` the head
    /// holds would not even keep (invalid UTF-8 becomes U+FFFD).
    static func isRequestTarget(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        for b in v where b <= 0x20 || b >= 0x7F || b == UInt8(ascii: "#") { return false }
        return true
    }

    /// The method as a string literal when it is a common one (no string to build), else a new string.
    static func method(_ v: UnsafeBufferPointer<UInt8>) -> String {
        /// Exactly the bytes of `literal` (methods are case-sensitive).
        func isLiteral(_ literal: StaticString) -> Bool {
            guard let p = v.baseAddress, v.count == literal.utf8CodeUnitCount else { return false }
            return memcmp(p, literal.utf8Start, v.count) == 0
        }
        if isLiteral("GET") { return "GET" }
        if isLiteral("POST") { return "POST" }
        if isLiteral("PUT") { return "PUT" }
        return String(decoding: v, as: UTF8.self)
    }

    /// `cache` when it holds exactly these bytes (a client repeats its authority, and often its path, on every
    /// stream of a connection), else a new string, which becomes the cache.
    static func reuse(_ cache: inout String, _ v: UnsafeBufferPointer<UInt8>) -> String {
        let same = cache.utf8.count == v.count && cache.utf8.span.withUnsafeBufferPointer { c in
            guard let a = c.baseAddress, let b = v.baseAddress else { return c.count == v.count }
            return memcmp(a, b, v.count) == 0
        }
        if same { return cache }
        cache = String(decoding: v, as: UTF8.self)
        return cache
    }

    /// A malformed request (RFC 9113 8.1.1): a stream error of type PROTOCOL_ERROR, queued first, so nghttp2's own
    /// reset for the refused field (INTERNAL_ERROR) finds the stream closing and is not sent. Returns false.
    private func refuseMalformed(_ st: HTTP2StreamState) -> Bool {
        _ = nghttp2_submit_rst_stream(handle, UInt8(NGHTTP2_FLAG_NONE.rawValue), st.id, HTTP2ErrorCode.protocolError)
        return false
    }

    /// One field of `st`'s request head or trailers.
    private func store(_ st: HTTP2StreamState, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !st.headerListTooLarge else { return true }
        st.headerListBytes += name.count + value.count + 32
        if st.headerListBytes > Int(settings.maxHeaderListSize) {
            // Stop storing: the rest of the block is still decoded by nghttp2 (HPACK state), but costs us nothing.
            st.headerListTooLarge = true
            st.head.headers = HTTPHeaders()
            st.trailers = st.trailers.map { _ in HTTPHeaders() }
            return true
        }
        if st.trailers != nil {
            st.trailers?.append(nameBytes: name, valueBytes: value)
            return true
        }
        if name.first == UInt8(ascii: ":") {
            // nghttp2 has already rejected unknown, repeated and misplaced pseudo-headers, so among the names that
            // reach here (:method :scheme :path :authority :protocol) length and second letter tell them apart.
            // `:scheme` is checked by nghttp2 and not used: the upstream hop is HTTP/1.1.
            switch (name.count, name.count > 1 ? name[1] : 0) {
            case (7, UInt8(ascii: "m")): st.head.method = HTTP2ServerSession.method(value)
            case (5, UInt8(ascii: "p")):
                guard HTTP2ServerSession.isRequestTarget(value) else { return refuseMalformed(st) }
                st.head.target = HTTP2ServerSession.reuse(&lastPath, value)
            case (10, UInt8(ascii: "a")): st.head.authority = HTTP2ServerSession.reuse(&lastAuthority, value)
            case (9, UInt8(ascii: "p")):
                // RFC 8441 4: an upgrade token (RFC 9110 16.7), which nghttp2 checks only as a field value.
                guard !value.isEmpty, value.allSatisfy(ASCII.isTokenChar) else { return refuseMalformed(st) }
                st.head.extendedProtocol = String(decoding: value, as: UTF8.self)
            default: break
            }
            return true
        }
        if name.count == 14 && ASCII.equalsIgnoringCase(name, "content-length") {
            // nghttp2 has validated the digits and that any repeat is identical.
            st.contentLength = value.reduce(0) { acc, d in acc &* 10 &+ Int(d &- 0x30) }
        }
        st.head.headers.append(nameBytes: name, valueBytes: value)
        return true
    }

    func frameReceived(_ frame: UnsafePointer<nghttp2_frame>) {
        let id = frame.pointee.hd.stream_id
        let endStream = frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch frame.pointee.hd.type {
        case UInt8(NGHTTP2_HEADERS.rawValue):
            headerTarget = nil
            guard let st = streams[id], !st.rejected, !st.resetByCaller else { return }
            if let trailers = st.trailers {
                st.trailers = nil
                if st.headerListTooLarge {
                    resetStream(streamID: id, errorCode: HTTP2ErrorCode.enhanceYourCalm)
                    return
                }
                guard st.headDelivered else { return }
                delegate.session(self, didReceiveTrailers: trailers, stream: st)
                endRequest(st)
            } else if st.headerListTooLarge {
                rejectOversizedHead(st)
            } else {
                deliverHead(st, endStream: endStream)
            }
        case UInt8(NGHTTP2_DATA.rawValue):
            if endStream, let st = streams[id], st.headDelivered, !st.rejected, !st.resetByCaller { endRequest(st) }
            // `padlen` counts the Pad Length byte too: what is left is the data.
            if !endStream && frame.pointee.hd.length <= frame.pointee.data.padlen { emptyDataReceived() }
        case UInt8(NGHTTP2_PING.rawValue):
            if gracefulShutdownPending && frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0 {
                submitFinalGoAway()
            }
        default:
            break
        }
    }

    /// A response that ended (END_STREAM sent) while the client's half of the stream is still open: the client
    /// is told with RST_STREAM(NO_ERROR) to stop sending (RFC 9113 8.1), so a request body nobody reads, such as
    /// the rest of an upload after a 401, cannot hold the stream and its connection open.
    func frameSent(_ frame: UnsafePointer<nghttp2_frame>) {
        let type = frame.pointee.hd.type
        guard type == UInt8(NGHTTP2_DATA.rawValue) || type == UInt8(NGHTTP2_HEADERS.rawValue),
              frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0 else { return }
        let id = frame.pointee.hd.stream_id
        if nghttp2_session_get_stream_remote_close(handle, id) == 0 {
            _ = nghttp2_submit_rst_stream(handle, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, HTTP2ErrorCode.noError)
        }
    }

    private func deliverHead(_ st: HTTP2StreamState, endStream: Bool) {
        let framing: BodyFraming = endStream ? .none : st.contentLength.map { .contentLength($0) } ?? .chunked
        st.headDelivered = true
        // Lent in place and taken by the delegate: a head assembled here from separate fields was copied and
        // destroyed on the way (a retain and a release per field).
        st.head.framing = framing
        delegate.session(self, didReceiveHead: &st.head, stream: st, endStream: endStream)
        // The delegate may have reset the stream from inside the call: then it hears of nothing more but the close.
        if endStream && !st.resetByCaller { endRequest(st) }
    }

    private func endRequest(_ st: HTTP2StreamState) {
        guard !st.requestEnded else { return }
        st.requestEnded = true
        delegate.session(self, streamEnded: st)
    }

    /// A head over `maxHeaderListSize` is never delivered: its body and trailers are dropped, and the delegate
    /// answers it (the gateway with its own 431 answer, request id included), so it also hears when it closes.
    private func rejectOversizedHead(_ st: HTTP2StreamState) {
        st.rejected = true
        st.headDelivered = true
        delegate.session(self, headTooLarge: st)
    }

    /// A plain 431 with the contract's JSON body, for a delegate that has no answer of its own.
    public func sendHeadTooLarge(_ st: HTTP2StreamState) {
        let body = Array(#"{"error":"headers_too_large","message":"request header fields too large"}"#.utf8)
        let head = HTTPResponseHead(status: 431, version: .http2,
                                    headers: HTTPHeaders([("content-type", "application/json"),
                                                          ("content-length", String(body.count))]))
        sendResponseHead(st, head: head, endStream: false)
        body.withUnsafeBytes { _ = sendData(st, bytes: $0, endStream: true) }
    }

    func dataChunk(_ id: Int32, _ data: UnsafeRawBufferPointer) {
        guard let st = streams[id], st.headDelivered, !st.rejected, !st.resetByCaller else {
            _ = nghttp2_session_consume(handle, id, data.count)
            return
        }
        st.unconsumed += data.count
        delegate.session(self, didReceiveData: data, stream: st)
    }

    func streamClosed(_ id: Int32, errorCode: UInt32) {
        if headerTarget != nil && headerTargetID == id { headerTarget = nil }
        guard let st = streams.removeValue(forKey: id) else { return }
        st.closed = true
        recycleResponseBuffer(st)
        // Bytes the delegate never reported still hold the connection window: give them back.
        if st.unconsumed > 0 { _ = nghttp2_session_consume_connection(handle, st.unconsumed) }
        if st.headDelivered { delegate.session(self, streamClosed: st, errorCode: errorCode) }
    }

    /// Keeps the stream's response buffer (moved out, so nothing else shares its storage) for a later stream.
    private func recycleResponseBuffer(_ st: HTTP2StreamState) {
        guard st.response.bytes.capacity > 0, spareResponseBuffers.count < Self.maxSpareResponseBuffers else { return }
        var buffer = ByteBuffer()
        swap(&buffer, &st.response)
        buffer.clear()
        // clear() lets go of storage above 64 KiB; only buffers that kept theirs are worth keeping.
        if buffer.bytes.capacity > 0 { spareResponseBuffers.append(buffer) }
    }

    /// The data source of every response body: serves the stream's buffer, defers while it is empty.
    ///
    /// The payload is not copied into `buf`: with NO_COPY, nghttp2 asks `writeResponseData` for it as the frame goes
    /// out, later in the same `mem_send` call, and the bytes go from the stream's buffer straight into the output.
    func readResponse(_ id: Int32, into buf: UnsafeMutableRawBufferPointer, flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let st = streams[id] else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
        let readable = st.response.readableBytes
        let n = min(buf.count, readable)
        if n > 0 { flags.pointee |= NGHTTP2_DATA_FLAG_NO_COPY.rawValue }
        guard n == readable else { return n }
        if st.responseEnded {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            if let trailers = st.responseTrailers {
                flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                var block = NGHeaderBlock()
                block.appendForwardable(trailers)
                _ = block.withNV { nva, count in nghttp2_submit_trailer(handle, id, nva, count) }
            }
            return n
        }
        if n == 0 {
            st.deferred = true
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        return n
    }

    /// Appends one DATA frame to the output `produceOutput` is filling: `header` (9 bytes), then `length` bytes taken
    /// from the front of the stream's buffer. Never WOULDBLOCK: the frame is written whole in the `mem_send` call that
    /// packed it, so the bytes cannot change in between.
    func writeResponseData(_ id: Int32, header: UnsafePointer<UInt8>, length: Int, padding: Int) -> Int32 {
        // All hold whenever nghttp2 calls: only `produceOutput` runs `mem_send`, `readResponse` left `length` bytes in
        // the buffer moments before in that call, and no padding callback is set. Otherwise reset the stream rather
        // than send a bad frame.
        guard let sink = outputSink, let st = streams[id], length <= st.response.readableBytes, padding == 0 else {
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
        }
        sink.pointee.appendUninitialized(9 + length) { d in
            Bytes.copy(d, header, count: 9)
            if length > 0 {
                st.response.withReadableBytes { src in
                    if let base = src.baseAddress { Bytes.copy(d + 9, base, count: length) }
                }
            }
        }
        st.response.consume(length)
        if st.aboveLowWater && st.response.readableBytes < settings.responseLowWater {
            st.aboveLowWater = false
            drained.append(id)
        }
        // nghttp2 would go on with the next queued frame inside the same call, DATA of other streams included: past
        // the caller's limit it returns instead, so one call adds at most one frame beyond it.
        return sink.pointee.count >= outputStop ? NGHTTP2_ERR_PAUSE.rawValue : 0
    }
}
