@testable import GatewayHTTP2
import GatewayCore
import HTTP2TestSupport

/// Records every delegate event; optionally answers heads and reports consumed bytes.
final class Recorder: HTTP2ServerSessionDelegate {
    var heads: [Int32: HTTPRequestHead] = [:]
    var headEndStream: [Int32: Bool] = [:]
    var bodies: [Int32: [UInt8]] = [:]
    var trailers: [Int32: HTTPHeaders] = [:]
    var ended: [Int32] = []
    var closed: [Int32: UInt32] = [:]
    var drained: [Int32] = []
    /// Report body bytes consumed as soon as they arrive.
    var autoConsume = true
    var onHead: ((HTTP2ServerSession, HTTPRequestHead, Int32) -> Void)?

    func session(_ s: HTTP2ServerSession, didReceiveHead head: inout HTTPRequestHead, stream: HTTP2StreamState,
                 endStream: Bool) {
        let streamID = stream.id
        heads[streamID] = head
        headEndStream[streamID] = endStream
        onHead?(s, head, streamID)
    }

    func session(_ s: HTTP2ServerSession, didReceiveData data: UnsafeRawBufferPointer, stream: HTTP2StreamState) {
        bodies[stream.id, default: []].append(contentsOf: data)
        if autoConsume { s.consumed(streamID: stream.id, count: data.count) }
    }

    func session(_ s: HTTP2ServerSession, didReceiveTrailers trailers: HTTPHeaders, stream: HTTP2StreamState) {
        self.trailers[stream.id] = trailers
    }

    func session(_ s: HTTP2ServerSession, streamEnded stream: HTTP2StreamState) { ended.append(stream.id) }

    func session(_ s: HTTP2ServerSession, streamClosed stream: HTTP2StreamState, errorCode: UInt32) {
        closed[stream.id] = errorCode
    }

    func session(_ s: HTTP2ServerSession, didDrainStream stream: HTTP2StreamState) { drained.append(stream.id) }
}

/// A real nghttp2 client wired to the server session in memory.
final class Harness {
    let recorder = Recorder()
    let server: HTTP2ServerSession
    let client: HTTP2TestClient
    /// Bytes per `produceOutput` call, like a socket that takes this much per write.
    var serverWriteLimit = 1 << 20
    /// Largest single `produceOutput` result seen.
    var largestServerWrite = 0

    init(settings: HTTP2Settings = HTTP2Settings(), clientAutoConsume: Bool = true) throws {
        server = try HTTP2ServerSession(settings: settings, delegate: recorder)
        client = try HTTP2TestClient(autoConsume: clientAutoConsume)
        try pump()
    }

    /// Moves bytes both ways until neither side has anything to say.
    func pump(maxRounds: Int = 10_000) throws {
        for _ in 0..<maxRounds {
            let up = client.produce()
            if !up.isEmpty { try feedServer(up) }
            var down: [UInt8] = []
            server.produceOutput(into: &down, limit: serverWriteLimit)
            largestServerWrite = max(largestServerWrite, down.count)
            try client.receive(down)
            if up.isEmpty && down.isEmpty { return }
        }
    }

    /// Feeds client bytes to the server (no typed-throws closure: Swift 6.3.1 crashes in IRGen on that thunk).
    func feedServer(_ bytes: [UInt8]) throws {
        var failure: (any Error)?
        bytes.withUnsafeBytes { buf in
            do { _ = try server.receive(buf) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Opens one GET stream per body and queues each body as its response (200, no fields); nothing is sent yet.
    func getAndQueueResponses(_ bodies: [[UInt8]]) throws -> [Int32] {
        let ids = bodies.map { _ in client.request(Harness.get) }
        try pump()
        for (id, body) in zip(ids, bodies) { server.respond(id, body: body) }
        return ids
    }

    static let get: [(String, String)] = [(":method", "GET"), (":scheme", "https"), (":path", "/"), (":authority", "shop.example")]

    static func pattern(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) } }
}

extension HTTP2ServerSession {
    /// Test convenience: a response head with string fields.
    func respond(_ id: Int32, status: Int = 200, _ fields: [(String, String)] = [], body: [UInt8]? = nil) {
        sendResponseHead(streamID: id, head: HTTPResponseHead(status: status, version: .http2, headers: HTTPHeaders(fields)),
                         endStream: body == nil)
        if let body { body.withUnsafeBytes { _ = sendData(streamID: id, bytes: $0, endStream: true) } }
    }
}
