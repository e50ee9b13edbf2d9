internal import CNghttp2

/// What went wrong inside the test client: an nghttp2 error code and where.
public struct HTTP2TestClientError: Error, CustomStringConvertible {
    /// The nghttp2 library error code (negative).
    public let code: Int32
    /// The failing call and nghttp2's text for the code.
    public let message: String

    init(_ code: Int32, _ function: String) {
        self.code = code
        message = "\(function): " + (nghttp2_strerror(code).map { String(cString: $0) } ?? "unknown")
    }

    public var description: String { "HTTP/2 test client error \(code): \(message)" }
}

/// A real nghttp2 client session for tests: submits requests and records what the server sent.
///
/// Lives in a test-only target so the production modules never ship it.
public final class HTTP2TestClient {
    /// What the client saw on one stream.
    public struct Response {
        public var status: Int?
        public var headers: [(name: String, value: String)] = []
        public var body: [UInt8] = []
        public var trailers: [(name: String, value: String)] = []
        public var closed = false
        public var closeErrorCode: UInt32?
        public var resetReceived: UInt32?
        public var endStreamReceived = false
        /// Set once the final response HEADERS frame is complete; later fields are trailers.
        public var headersDone = false

        public init() {}
    }

    /// A request body still being handed to nghttp2.
    final class Outgoing {
        var body: [UInt8]
        var offset = 0
        var trailers: [(String, String)]?
        var keepOpen: Bool
        init(body: [UInt8], trailers: [(String, String)]?, keepOpen: Bool) {
            self.body = body; self.trailers = trailers; self.keepOpen = keepOpen
        }
    }

    let handle: OpaquePointer
    /// When false, received DATA keeps the window closed until `consume` (a slow reader).
    public var autoConsume: Bool
    /// Per stream id, what the server sent (and whether it reset or closed the stream).
    public var responses: [Int32: Response] = [:]
    var outgoing: [Int32: Outgoing] = [:]
    /// Every GOAWAY received, in order.
    public var goAways: [(lastStreamID: Int32, errorCode: UInt32)] = []
    var unconsumed: [Int32: Int] = [:]
    /// Hand-made frames (`sendRaw`) that go out after nghttp2's own on the next `produce`.
    private var rawQueue: [UInt8] = []

    /// `peerMaxConcurrentStreams` replaces nghttp2's assumed limit of 100 until the server's SETTINGS arrive, so a test
    /// can open more streams in its first flight than the server will allow.
    public init(autoConsume: Bool = true, peerMaxConcurrentStreams: UInt32? = nil) throws(HTTP2TestClientError) {
        self.autoConsume = autoConsume
        // nghttp2 copies both into the session, so they are freed once it exists.
        var cbp: OpaquePointer?
        let crv = nghttp2_session_callbacks_new(&cbp)
        guard crv == 0, let cb = cbp else { throw HTTP2TestClientError(crv, "nghttp2_session_callbacks_new") }
        defer { nghttp2_session_callbacks_del(cb) }
        nghttp2_session_callbacks_set_on_header_callback(cb, clientOnHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(cb, clientOnFrameRecv)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, clientOnData)
        nghttp2_session_callbacks_set_on_stream_close_callback(cb, clientOnClose)
        var optp: OpaquePointer?
        let orv = nghttp2_option_new(&optp)
        guard orv == 0, let opt = optp else { throw HTTP2TestClientError(orv, "nghttp2_option_new") }
        defer { nghttp2_option_del(opt) }
        nghttp2_option_set_no_auto_window_update(opt, 1)
        if let peerMaxConcurrentStreams { nghttp2_option_set_peer_max_concurrent_streams(opt, peerMaxConcurrentStreams) }
        var p: OpaquePointer?
        let rv = nghttp2_session_client_new2(&p, cb, nil, opt)
        guard rv == 0, let p else { throw HTTP2TestClientError(rv, "nghttp2_session_client_new2") }
        handle = p
        nghttp2_session_set_user_data(handle, Unmanaged.passUnretained(self).toOpaque())
        _ = nghttp2_submit_settings(handle, 0, nil, 0)
    }

    /// Name and value bytes handed to nghttp2 without copying, so it cannot lower-case them; freed with the client.
    private var pinned: [UnsafeMutableRawBufferPointer] = []

    deinit {
        nghttp2_session_del(handle)
        for p in pinned { p.deallocate() }
    }

    /// Builds an nv array that nghttp2 sends exactly as given (it lower-cases names it copies).
    private func pinnedBlock(_ fields: [(String, String)]) -> [nghttp2_nv] {
        fields.map { n, v in
            let name = pin(Array(n.utf8)), value = pin(Array(v.utf8))
            return nghttp2_nv(name: name.baseAddress, value: value.baseAddress, namelen: n.utf8.count, valuelen: v.utf8.count,
                              flags: UInt8(NGHTTP2_NV_FLAG_NO_COPY_NAME.rawValue | NGHTTP2_NV_FLAG_NO_COPY_VALUE.rawValue))
        }
    }

    private func pin(_ bytes: [UInt8]) -> UnsafeMutableBufferPointer<UInt8> {
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        raw.copyBytes(from: bytes)
        pinned.append(raw)
        return raw.bindMemory(to: UInt8.self)
    }

    /// Submits a request with the given fields in order (pseudo-headers included, bytes as given).
    @discardableResult
    public func request(_ fields: [(String, String)], body: [UInt8]? = nil, trailers: [(String, String)]? = nil,
                 keepOpen: Bool = false) -> Int32 {
        let block = pinnedBlock(fields)
        let hasBody = body != nil || trailers != nil || keepOpen
        let out = Outgoing(body: body ?? [], trailers: trailers, keepOpen: keepOpen)
        var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: clientRead)
        let id = block.withUnsafeBufferPointer { nva in
            hasBody ? nghttp2_submit_request(handle, nil, nva.baseAddress, nva.count, &provider, nil)
                    : nghttp2_submit_request(handle, nil, nva.baseAddress, nva.count, nil, nil)
        }
        if id > 0 {
            responses[id] = Response()
            if hasBody { outgoing[id] = out }
        }
        return id
    }

    /// Appends body bytes to a `keepOpen` request.
    public func send(streamID: Int32, _ bytes: [UInt8], end: Bool) {
        guard let o = outgoing[streamID] else { return }
        o.body += bytes
        if end { o.keepOpen = false }
        _ = nghttp2_session_resume_data(handle, streamID)
    }

    /// Sends an RFC 7540 PRIORITY frame for `streamID` (which may be idle), making it depend on `dependsOn`.
    ///
    /// Written by hand: nghttp2's `nghttp2_submit_priority` sends nothing once the server's
    /// SETTINGS_NO_RFC7540_PRIORITIES = 1 has arrived, and refuses a stream that depends on itself.
    public func prioritize(streamID: Int32, dependsOn: Int32, weight: UInt8 = 16) {
        sendRaw(HTTP2RawFrame.priority(streamID: streamID, dependsOn: dependsOn, weight: weight))
    }

    /// Queues bytes that go to the server after nghttp2's own output on the next `produce`: for frames a
    /// well-behaved client never sends. Nothing in them may change HPACK or stream state the session relies on.
    public func sendRaw(_ bytes: [UInt8]) {
        rawQueue += bytes
    }

    /// Sends RST_STREAM for the stream.
    public func reset(streamID: Int32, errorCode: UInt32) {
        _ = nghttp2_submit_rst_stream(handle, 0, streamID, errorCode)
    }

    /// Reopens the window for `count` received bytes of the stream (slow-reader mode).
    public func consume(streamID: Int32, count: Int) {
        let n = min(count, unconsumed[streamID] ?? 0)
        guard n > 0 else { return }
        unconsumed[streamID, default: 0] -= n
        _ = nghttp2_session_consume(handle, streamID, n)
    }

    /// Feeds bytes from the server; throws on a fatal session error.
    public func receive(_ bytes: [UInt8]) throws(HTTP2TestClientError) {
        guard !bytes.isEmpty else { return }
        let n = bytes.withUnsafeBufferPointer { nghttp2_session_mem_recv(handle, $0.baseAddress, $0.count) }
        if n < 0 { throw HTTP2TestClientError(Int32(truncatingIfNeeded: n), "client mem_recv") }
    }

    /// The bytes for the server: nghttp2's frames, then any queued by `sendRaw`.
    public func produce() -> [UInt8] {
        var out: [UInt8] = []
        while true {
            var p: UnsafePointer<UInt8>?
            let n = nghttp2_session_mem_send(handle, &p)
            guard n > 0, let p else { break }
            out.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        }
        out += rawQueue
        rawQueue.removeAll()
        return out
    }

    /// SETTINGS_ENABLE_CONNECT_PROTOCOL as advertised by the server.
    public var serverEnablesConnectProtocol: Bool {
        nghttp2_session_get_remote_settings(handle, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) == 1
    }

    /// SETTINGS_NO_RFC7540_PRIORITIES as advertised by the server (RFC 9218 2.1).
    public var serverDisablesRFC7540Priorities: Bool {
        nghttp2_session_get_remote_settings(handle, NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES) == 1
    }

    /// SETTINGS_MAX_CONCURRENT_STREAMS as advertised by the server.
    public var serverMaxConcurrentStreams: UInt32 {
        nghttp2_session_get_remote_settings(handle, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
    }

    fileprivate func read(_ id: Int32, _ buf: UnsafeMutableRawBufferPointer, _ flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let o = outgoing[id] else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
        let n = min(buf.count, o.body.count - o.offset)
        o.body.withUnsafeBytes { src in buf.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[o.offset..<(o.offset + n)])) }
        o.offset += n
        if o.offset == o.body.count {
            if o.keepOpen { return n == 0 ? Int(NGHTTP2_ERR_DEFERRED.rawValue) : n }
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            if let t = o.trailers {
                flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                let block = pinnedBlock(t)
                _ = block.withUnsafeBufferPointer { nghttp2_submit_trailer(handle, id, $0.baseAddress, $0.count) }
            }
        }
        return n
    }

    fileprivate func header(_ id: Int32, _ name: String, _ value: String) {
        if name == ":status" {
            responses[id, default: Response()].status = Int(value)
        } else if let s = responses[id]?.status, s >= 200, responses[id]?.headersDone == true {
            responses[id]?.trailers.append((name, value))
        } else {
            responses[id, default: Response()].headers.append((name, value))
        }
    }

    fileprivate func frame(_ f: UnsafePointer<nghttp2_frame>) {
        let id = f.pointee.hd.stream_id
        let end = f.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch f.pointee.hd.type {
        case UInt8(NGHTTP2_HEADERS.rawValue):
            if let s = responses[id]?.status, s >= 200 { responses[id]?.headersDone = true }
            if end { responses[id]?.endStreamReceived = true }
        case UInt8(NGHTTP2_DATA.rawValue):
            if end { responses[id]?.endStreamReceived = true }
        case UInt8(NGHTTP2_RST_STREAM.rawValue):
            responses[id, default: Response()].resetReceived = f.pointee.rst_stream.error_code
        case UInt8(NGHTTP2_GOAWAY.rawValue):
            goAways.append((f.pointee.goaway.last_stream_id, f.pointee.goaway.error_code))
        default:
            break
        }
    }

    fileprivate func data(_ id: Int32, _ d: UnsafeRawBufferPointer) {
        responses[id, default: Response()].body.append(contentsOf: d)
        if autoConsume {
            _ = nghttp2_session_consume(handle, id, d.count)
        } else {
            unconsumed[id, default: 0] += d.count
        }
    }

    fileprivate func closed(_ id: Int32, _ code: UInt32) {
        responses[id, default: Response()].closed = true
        responses[id]?.closeErrorCode = code
        if let n = unconsumed.removeValue(forKey: id), n > 0 { _ = nghttp2_session_consume_connection(handle, n) }
        outgoing[id] = nil
    }
}

private func client(_ ud: UnsafeMutableRawPointer?) -> HTTP2TestClient? {
    ud.map { Unmanaged<HTTP2TestClient>.fromOpaque($0).takeUnretainedValue() }
}

private func clientOnHeader(_ s: OpaquePointer?, _ f: UnsafePointer<nghttp2_frame>?, _ name: UnsafePointer<UInt8>?, _ nl: Int,
                            _ value: UnsafePointer<UInt8>?, _ vl: Int, _ flags: UInt8, _ ud: UnsafeMutableRawPointer?) -> Int32 {
    guard let f, let c = client(ud) else { return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue }
    c.header(f.pointee.hd.stream_id, String(decoding: UnsafeBufferPointer(start: name, count: nl), as: UTF8.self),
             String(decoding: UnsafeBufferPointer(start: value, count: vl), as: UTF8.self))
    return 0
}

private func clientOnFrameRecv(_ s: OpaquePointer?, _ f: UnsafePointer<nghttp2_frame>?, _ ud: UnsafeMutableRawPointer?) -> Int32 {
    guard let f, let c = client(ud) else { return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue }
    c.frame(f)
    return 0
}

private func clientOnData(_ s: OpaquePointer?, _ flags: UInt8, _ id: Int32, _ d: UnsafePointer<UInt8>?, _ len: Int,
                          _ ud: UnsafeMutableRawPointer?) -> Int32 {
    guard let c = client(ud) else { return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue }
    c.data(id, UnsafeRawBufferPointer(start: d, count: len))
    return 0
}

private func clientOnClose(_ s: OpaquePointer?, _ id: Int32, _ code: UInt32, _ ud: UnsafeMutableRawPointer?) -> Int32 {
    guard let c = client(ud) else { return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue }
    c.closed(id, code)
    return 0
}

private func clientRead(_ s: OpaquePointer?, _ id: Int32, _ buf: UnsafeMutablePointer<UInt8>?, _ len: Int,
                        _ flags: UnsafeMutablePointer<UInt32>?, _ src: UnsafeMutablePointer<nghttp2_data_source>?,
                        _ ud: UnsafeMutableRawPointer?) -> Int {
    guard let c = client(ud), let buf, let flags else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
    return c.read(id, UnsafeMutableRawBufferPointer(start: buf, count: len), flags)
}
