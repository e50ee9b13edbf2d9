import GatewayCore
import GatewayHTTP2

/// The `fuzz-h2-server` check: client bytes into `HTTP2ServerSession` as the proxy's connection feeds them, a fake
/// upstream as its delegate, and the invariants of issue 19 checked on what comes out.
public enum H2ServerFuzz {
    /// The session's limits in every run: small, so inputs of a few kilobytes reach them.
    public static let settings = HTTP2Settings(maxConcurrentStreams: 8, maxHeaderListSize: 2048)
    /// Inputs above this are only run split (the whole-versus-split comparison needs every request body to fit the
    /// stream window, so that when WINDOW_UPDATE frames are queued cannot matter).
    static let comparedInputLimit = 60_000

    /// What one run produced.
    struct Run {
        var requests: [Int32: ForwardedRequest] = [:]
        var order: [Int32] = []
        var output: [UInt8] = []
        var outputCheck = H2OutputCheck()
        var thrown: Int32?
        /// The session stopped wanting input with bytes left to feed (see `compare`).
        var doneReadingEarly = false
        var violations: [String] = []

        /// Output frames minus WINDOW_UPDATE (their timing follows when body bytes were reported consumed).
        var comparableFrames: [H2OutputCheck.Frame] { outputCheck.frames.filter { $0.type != 0x8 } }
    }

    /// Every invariant violation for `bytes` (empty when all hold).
    public static func check(_ bytes: UnsafeRawBufferPointer) -> [String] {
        let model = H2InputModel(bytes, maxFrameSize: Int(settings.maxFrameSize))
        let chunks = splits(bytes)
        // The proxy's loop: chunk by chunk, output drained after each.
        let live = run(bytes, model: model, chunks: chunks, drainEachChunk: true)
        var problems = live.violations
        if bytes.count <= comparedInputLimit {
            let whole = run(bytes, model: model, chunks: [bytes.count], drainEachChunk: false)
            let split = run(bytes, model: model, chunks: chunks, drainEachChunk: false)
            problems += whole.violations.map { "whole: " + $0 }
            problems += split.violations.map { "split: " + $0 }
            // Once a connection is done (the client's GOAWAY read, no stream left), nghttp2 drops every later
            // read whole, but finishes the one in hand: where the reads split then decides what is read, by design.
            if !split.doneReadingEarly { problems += compare(whole, split) }
        }
        return problems
    }

    /// Runs `check` and stops the process on a violation (what the fuzzer needs to keep the input).
    public static func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) {
        let problems = check(UnsafeRawBufferPointer(start: data, count: size))
        if !problems.isEmpty { fatalError("fuzz-h2-server invariant violated:\n" + problems.prefix(20).joined(separator: "\n")) }
    }

    /// Chunk lengths for `bytes`, from the bytes themselves: the same input always splits the same way.
    static func splits(_ bytes: UnsafeRawBufferPointer) -> [Int] {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        // Tiny pieces, short reads or socket-sized reads.
        let maxChunk = [7, 40, 300, 2000][Int(h & 3)]
        var chunks: [Int] = []
        var left = bytes.count
        while left > 0 {
            h ^= h << 13
            h ^= h >> 7
            h ^= h << 17
            let n = min(left, 1 + Int(h % UInt64(maxChunk)))
            chunks.append(n)
            left -= n
        }
        return chunks
    }

    static func run(_ bytes: UnsafeRawBufferPointer, model: H2InputModel, chunks: [Int], drainEachChunk: Bool) -> Run {
        var r = Run()
        let upstream = FakeUpstream(model: model)
        let session: HTTP2ServerSession
        do { session = try HTTP2ServerSession(settings: settings, delegate: upstream) } catch {
            r.violations.append("session did not start: \(error)")
            return r
        }
        var at = 0
        for n in chunks {
            let chunk = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
            upstream.chunkStart = at
            var failure: HTTP2Error?
            do { try session.receive(chunk) } catch { failure = error }
            at += n
            if let failure {
                // As the connection does: flush what nghttp2 queued, then stop reading.
                r.thrown = failure.code
                upstream.connectionDead = true
                drain(session, upstream, model, &r)
                break
            }
            if drainEachChunk {
                let before = r.output.count
                drain(session, upstream, model, &r)
                // Output a chunk causes is bounded by the chunk (ACKs, RST_STREAM, WINDOW_UPDATE are each smaller than
                // the frame that caused them, times a few) plus the fake upstream's small answers.
                let added = r.output.count - before
                if added > 64 * n + 4096 { r.violations.append("\(added) output bytes after a \(n)-byte chunk") }
                checkBounds(session, upstream, &r)
                // The connection closes when the session wants neither to read nor to write.
                if !session.wantsRead && !session.wantsWrite { break }
            } else {
                checkBounds(session, upstream, &r)
                if !session.wantsRead && at < bytes.count { r.doneReadingEarly = true }
            }
        }
        if !drainEachChunk { drain(session, upstream, model, &r) }
        r.outputCheck.finish(r.output)
        if r.output.count > 64 * bytes.count + 16_384 {
            r.violations.append("\(r.output.count) output bytes for \(bytes.count) input bytes")
        }
        r.requests = upstream.requests
        r.order = upstream.order
        r.violations += upstream.violations + r.outputCheck.violations
        r.violations += checkForwarded(upstream, model)
        return r
    }

    /// Drains the session as `HTTP2ClientConnection.flushOutput` does (64 KiB per call until nothing comes).
    static func drain(_ session: HTTP2ServerSession, _ upstream: FakeUpstream, _ model: H2InputModel, _ r: inout Run) {
        var rounds = 0
        while true {
            let before = r.output.count
            session.produceOutput(into: &r.output, limit: 64 * 1024)
            if r.output.count == before { break }
            rounds += 1
            if rounds > 10_000 {
                r.violations.append("output never ends")
                break
            }
        }
        r.outputCheck.read(r.output, maxPayload: model.peerMaxFrameSize, answered: upstream.answered,
                           highestStream: model.highestStreamID)
        if r.outputCheck.goAways.contains(where: { $0.code != 0 }) { upstream.connectionDead = true }
    }

    /// Memory stays within the configured limits: stream objects, open streams, buffered response bytes.
    static func checkBounds(_ session: HTTP2ServerSession, _ upstream: FakeUpstream, _ r: inout Run) {
        let limit = Int(settings.maxConcurrentStreams)
        guard upstream.live.count > 0 else { return }
        if upstream.live.count > limit { r.violations.append("\(upstream.live.count) stream objects alive, limit \(limit)") }
        if session.openStreamCount > limit { r.violations.append("\(session.openStreamCount) open streams, limit \(limit)") }
        let buffered = session.openStreams.reduce(0) { $0 + session.bufferedBytes($1) }
        if buffered > limit * 1024 { r.violations.append("\(buffered) response bytes buffered") }
    }

    /// Every request the upstream was handed is one the client sent, valid by the strict rules, and handed over
    /// exactly: head, body, trailers and end as on the wire.
    static func checkForwarded(_ upstream: FakeUpstream, _ model: H2InputModel) -> [String] {
        var out: [String] = []
        let maxList = Int(settings.maxHeaderListSize)
        for (id, req) in upstream.requests {
            guard model.prefaceOK, let raw = model.streams[id], let first = raw.blocks.first else {
                out.append("stream \(id) forwarded but the client sent no header block for it")
                continue
            }
            guard let fields = first else {
                out.append("stream \(id) forwarded though its header block does not decode")
                continue
            }
            if req.tooLarge {
                let size = fields.reduce(0) { $0 + $1.name.count + $1.value.count + 32 }
                if size <= maxList { out.append("stream \(id) refused as too large at \(size) bytes") }
                continue
            }
            if let p = H2StrictRules.requestProblem(fields, maxHeaderListSize: maxList,
                                                    connectProtocol: settings.enableConnectProtocol) {
                out.append("stream \(id) forwarded though malformed: \(p) \(describe(fields))")
                continue
            }
            func pseudo(_ n: String) -> [UInt8]? { fields.first { $0.name == Array(n.utf8) }?.value }
            if req.method != pseudo(":method") { out.append("stream \(id): forwarded method differs from :method") }
            if req.target != (pseudo(":path") ?? []) { out.append("stream \(id): forwarded target differs from :path") }
            let authority = pseudo(":authority").flatMap { $0.isEmpty ? nil : $0 }
            if req.authority != authority { out.append("stream \(id): forwarded authority differs from :authority") }
            if req.extendedProtocol != pseudo(":protocol") { out.append("stream \(id): forwarded protocol differs") }
            let regular = fields.filter { $0.name.first != UInt8(ascii: ":") }
            if req.fields != regular { out.append("stream \(id): forwarded fields differ from the block") }
            if req.headEndStream != raw.blockEndStream[0] { out.append("stream \(id): END_STREAM on the head differs") }
            if !raw.body.starts(with: req.body) { out.append("stream \(id): forwarded body is not what the client sent") }
            let contentLength = regular.first { $0.name == Array("content-length".utf8) }
                .flatMap { Int(String(decoding: $0.value, as: UTF8.self)) }
            let framing: BodyFraming = req.headEndStream ? .none : contentLength.map { .contentLength($0) } ?? .chunked
            if req.framing != framing { out.append("stream \(id): head framed as \(req.framing), not \(framing)") }
            if let cl = contentLength, req.body.count > cl {
                out.append("stream \(id): \(req.body.count) body bytes forwarded past content-length \(cl)")
            }
            if let t = req.trailers {
                if raw.blocks.count < 2 || raw.blocks[1] != t {
                    out.append("stream \(id): forwarded trailers are not the client's second block")
                } else if let p = H2StrictRules.trailersProblem(t, maxHeaderListSize: maxList) {
                    out.append("stream \(id): malformed trailers forwarded: \(p)")
                } else if !raw.blockEndStream[1] {
                    out.append("stream \(id): trailers forwarded without END_STREAM")
                }
            }
            if req.ended {
                guard let total = raw.bodyAtEnd else {
                    out.append("stream \(id): end forwarded but the client never ended it")
                    continue
                }
                if req.body.count != total { out.append("stream \(id): ended after \(req.body.count) of \(total) body bytes") }
                if let cl = contentLength, req.body.count != cl {
                    out.append("stream \(id): ended with \(req.body.count) body bytes, content-length \(cl)")
                }
            }
        }
        return out
    }

    /// Whole and split input, output drained at the end in both: the same requests, the same outcome, the same frames.
    static func compare(_ whole: Run, _ split: Run) -> [String] {
        var out: [String] = []
        if whole.order != split.order { out.append("whole and split forwarded heads in a different order: \(whole.order) \(split.order)") }
        // A body cut by an error (the stream's or the connection's) may be cut at a different byte: nghttp2 checks
        // content-length per piece of DATA it reads, and hands over a piece that fits before the piece that does
        // not. So bodies are compared for ended requests; every body is still checked to be the client's bytes and
        // within content-length (`checkForwarded`).
        func comparable(_ r: ForwardedRequest?) -> ForwardedRequest? {
            guard var r, !r.ended else { return r }
            r.body = []
            return r
        }
        for id in Set(whole.requests.keys).union(split.requests.keys)
        where comparable(whole.requests[id]) != comparable(split.requests[id]) {
            out.append("whole and split forwarded different requests on stream \(id): \(describe(whole.requests[id])) / \(describe(split.requests[id]))")
        }
        if whole.thrown != split.thrown { out.append("whole and split ended differently: \(String(describing: whole.thrown)) \(String(describing: split.thrown))") }
        let wg = whole.outputCheck.goAways.map { "\($0.last)/\($0.code)" }, sg = split.outputCheck.goAways.map { "\($0.last)/\($0.code)" }
        if wg != sg { out.append("whole and split sent different GOAWAYs: \(wg) \(sg)") }
        if whole.comparableFrames != split.comparableFrames { out.append("whole and split output differ") }
        return out
    }

    static func describe(_ r: ForwardedRequest?) -> String {
        guard let r else { return "none" }
        return "\(String(decoding: r.method, as: UTF8.self)) \(String(decoding: r.target, as: UTF8.self)) \(describe(r.fields)) "
            + "body \(r.body.count) ended \(r.ended) trailers \(r.trailers.map(describe) ?? "none") closed \(r.closedWith.map(String.init) ?? "no")"
            + (r.tooLarge ? " 431" : "")
    }

    static func describe(_ fields: [H2Field]) -> String {
        "[" + fields.map { "\($0.nameString): \(String(decoding: $0.value, as: UTF8.self).debugDescription)" }.joined(separator: ", ") + "]"
    }
}
