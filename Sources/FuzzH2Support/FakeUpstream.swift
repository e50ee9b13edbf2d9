import GatewayCore
import GatewayHTTP2

/// What one stream handed to the upstream side, in the form the runs are compared in.
struct ForwardedRequest: Equatable {
    var method: [UInt8] = []
    var target: [UInt8] = []
    var authority: [UInt8]?
    var extendedProtocol: [UInt8]?
    var fields: [H2Field] = []
    var framing = BodyFraming.none
    var headEndStream = false
    var body: [UInt8] = []
    var trailers: [H2Field]?
    var ended = false
    /// The head went over the header-list limit: never delivered, answered 431 by the session.
    var tooLarge = false
    var closedWith: UInt32?
}

/// Counts the stream objects alive: the session's per-stream memory.
final class LiveStreams {
    var count = 0
    var peak = 0
}

/// The per-stream object the fake upstream makes (as `HTTP2Stream` does in the proxy).
final class FuzzStream: HTTP2StreamState {
    private let live: LiveStreams

    init(id: Int32, live: LiveStreams) {
        self.live = live
        live.count += 1
        live.peak = max(live.peak, live.count)
        super.init(id: id)
    }

    deinit { live.count -= 1 }
}

/// The upstream side of the fuzz target: the session's delegate, as `HTTP2ClientConnection` and `HTTP2Stream` are in
/// the proxy (request body consumed as soon as it is passed on, answers through the same session calls), minus the
/// gate and the sockets. It records every request it is handed and answers some of them, the way chosen by the
/// stream id and the path, so every run of one input answers alike.
final class FakeUpstream: HTTP2ServerSessionDelegate {
    /// How the upstream treats a stream.
    enum Plan: Int, CaseIterable {
        /// 200 with a small body at once, before the request body ends when there is one.
        case answerAtHead
        /// 200 with a small body once the request ended.
        case answerAtEnd
        /// RST_STREAM(INTERNAL_ERROR) at once, as an aborted upstream does (`downstreamAbort`).
        case resetAtHead
        /// Never answers, and keeps the request body unconsumed (flow control closes on the client).
        case silent
        /// 204 without a body at once.
        case noContentAtHead
        /// 200, then body and trailers once the request ended.
        case trailersAtEnd
        /// The head at once, the body once the request ended.
        case headNowBodyAtEnd
        /// 100 Continue at once, 200 once the request ended.
        case interimThenAnswer
    }

    let live = LiveStreams()
    var requests: [Int32: ForwardedRequest] = [:]
    /// Stream ids in the order their heads arrived.
    var order: [Int32] = []
    /// Set by the runner: whether the connection is known dead (receive threw, or a GOAWAY with an error went out).
    var connectionDead = false
    /// Input offset where the bytes being fed begin (the runner's chunk).
    var chunkStart = 0
    /// Streams the upstream reset itself.
    var resetByUpstream: Set<Int32> = []
    /// Streams the upstream (or the session's own 431) answered on: the only ones output may carry frames for.
    var answered: Set<Int32> = []
    var plans: [Int32: Plan] = [:]
    /// Invariant violations seen during the events.
    var violations: [String] = []
    /// The input model, for the client's RST_STREAM offsets.
    let model: H2InputModel

    init(model: H2InputModel) { self.model = model }

    private func forwarding(_ what: String, _ id: Int32) {
        if connectionDead { violations.append("\(what) on stream \(id) after the connection errored") }
        if requests[id]?.closedWith != nil { violations.append("\(what) on stream \(id) after it closed") }
        if resetByUpstream.contains(id) { violations.append("\(what) on stream \(id) after the upstream reset it") }
        if let at = model.streams[id]?.resetAt, chunkStart >= at {
            violations.append("\(what) on stream \(id) after the client reset it")
        }
    }

    func session(_ s: HTTP2ServerSession, makeStreamWithID id: Int32) -> HTTP2StreamState {
        FuzzStream(id: id, live: live)
    }

    func session(_ s: HTTP2ServerSession, didReceiveHead head: inout HTTPRequestHead, stream: HTTP2StreamState,
                 endStream: Bool) {
        let id = stream.id
        forwarding("head", id)
        if requests[id] != nil { violations.append("second head on stream \(id)") }
        let h = head.take()
        var r = ForwardedRequest()
        r.method = Array(h.method.utf8)
        r.target = Array(h.target.utf8)
        r.authority = h.authority.map { Array($0.utf8) }
        r.extendedProtocol = h.extendedProtocol.map { Array($0.utf8) }
        r.fields = (0..<h.headers.count).map { H2Field(Array(h.headers.nameBytes($0)), Array(h.headers.valueBytes($0))) }
        r.framing = h.framing
        r.headEndStream = endStream
        requests[id] = r
        order.append(id)
        let plan = FakeUpstream.plan(id, r.target)
        plans[id] = plan
        switch plan {
        case .answerAtHead: answer(s, stream, endStream: true)
        case .resetAtHead:
            resetByUpstream.insert(id)
            s.resetStream(streamID: id, errorCode: HTTP2ErrorCode.internalError)
        case .noContentAtHead:
            answered.insert(id)
            s.sendResponseHead(stream, head: HTTPResponseHead(status: 204, version: .http2, headers: HTTPHeaders()),
                               endStream: true)
        case .headNowBodyAtEnd:
            answered.insert(id)
            s.sendResponseHead(stream, head: FakeUpstream.head, endStream: false)
        case .interimThenAnswer:
            answered.insert(id)
            s.sendResponseHead(stream, head: HTTPResponseHead(status: 100, version: .http2, headers: HTTPHeaders()),
                               endStream: false)
        case .answerAtEnd, .silent, .trailersAtEnd:
            break
        }
    }

    func session(_ s: HTTP2ServerSession, headTooLarge stream: HTTP2StreamState) {
        forwarding("431", stream.id)
        if requests[stream.id] != nil { violations.append("431 after a head on stream \(stream.id)") }
        var r = ForwardedRequest()
        r.tooLarge = true
        requests[stream.id] = r
        order.append(stream.id)
        answered.insert(stream.id)
        s.sendHeadTooLarge(stream)
    }

    func session(_ s: HTTP2ServerSession, didReceiveData data: UnsafeRawBufferPointer, stream: HTTP2StreamState) {
        let id = stream.id
        forwarding("DATA", id)
        guard requests[id] != nil else {
            violations.append("DATA on stream \(id) before its head")
            return
        }
        if requests[id]?.tooLarge == true { violations.append("DATA of a refused (431) head on stream \(id)") }
        if requests[id]?.ended == true { violations.append("DATA on stream \(id) after its end") }
        requests[id]?.body += data
        if plans[id] != .silent { s.consumed(stream, count: data.count) }
    }

    func session(_ s: HTTP2ServerSession, didReceiveTrailers trailers: HTTPHeaders, stream: HTTP2StreamState) {
        let id = stream.id
        forwarding("trailers", id)
        if requests[id] == nil || requests[id]?.tooLarge == true { violations.append("trailers on stream \(id) without a head") }
        if requests[id]?.trailers != nil || requests[id]?.ended == true { violations.append("late trailers on stream \(id)") }
        requests[id]?.trailers = (0..<trailers.count).map { H2Field(Array(trailers.nameBytes($0)), Array(trailers.valueBytes($0))) }
    }

    func session(_ s: HTTP2ServerSession, streamEnded stream: HTTP2StreamState) {
        let id = stream.id
        forwarding("end", id)
        if requests[id] == nil || requests[id]?.tooLarge == true { violations.append("end on stream \(id) without a head") }
        if requests[id]?.ended == true { violations.append("second end on stream \(id)") }
        requests[id]?.ended = true
        switch plans[id] {
        case .answerAtEnd: answer(s, stream, endStream: true)
        case .trailersAtEnd:
            answered.insert(id)
            s.sendResponseHead(stream, head: FakeUpstream.head, endStream: false)
            FakeUpstream.body.withUnsafeBytes { _ = s.sendData(stream, bytes: $0, endStream: false) }
            s.sendTrailers(stream, trailers: HTTPHeaders([("X-Checksum", "abc"), ("Connection", "close")]))
        case .headNowBodyAtEnd:
            FakeUpstream.body.withUnsafeBytes { _ = s.sendData(stream, bytes: $0, endStream: true) }
        case .interimThenAnswer: answer(s, stream, endStream: true)
        default: break
        }
    }

    func session(_ s: HTTP2ServerSession, streamClosed stream: HTTP2StreamState, errorCode: UInt32) {
        let id = stream.id
        if requests[id] == nil { violations.append("close of stream \(id) the upstream never had") }
        if requests[id]?.closedWith != nil { violations.append("second close of stream \(id)") }
        requests[id]?.closedWith = errorCode
    }

    /// The upstream response: mixed-case and connection-specific fields, which the session must clean.
    static let head = HTTPResponseHead(status: 200, version: .http2, headers: HTTPHeaders([
        ("Content-Type", "text/plain"), ("Connection", "keep-alive"), ("Transfer-Encoding", "chunked"),
        ("X-Upstream", "fuzz"), ("Keep-Alive", "5"),
    ]))
    static let body = Array("hello from upstream\n".utf8)

    private func answer(_ s: HTTP2ServerSession, _ stream: HTTP2StreamState, endStream: Bool) {
        answered.insert(stream.id)
        s.sendResponseHead(stream, head: FakeUpstream.head, contentLength: FakeUpstream.body.count, endStream: false)
        FakeUpstream.body.withUnsafeBytes { _ = s.sendData(stream, bytes: $0, endStream: endStream) }
    }

    /// The plan of a stream, from its id and path only: the same in every run of an input.
    static func plan(_ id: Int32, _ target: [UInt8]) -> Plan {
        var h = UInt32(bitPattern: id) &* 2_654_435_761
        for b in target { h = (h ^ UInt32(b)) &* 16_777_619 }
        return Plan(rawValue: Int(h >> 7) % Plan.allCases.count) ?? .silent
    }
}
