import GatewayAuth
import GatewayConfig
import GatewayCore
import GatewayHTTP1
import GatewayProxy

/// `fuzz-http1-request`: the strict request parser.
///
/// - Fed whole, at one or two input-derived splits, and byte by byte (short inputs), it produces the same records.
/// - It never leaves bytes unconsumed without an event (the connection would drop them) and never hands out a body
///   range outside the bytes it was given.
/// - Every complete request it accepted goes through the real forwarding path (the gate's rewrite, then the head
///   serializer with framing added, the body re-chunked as `ProxyExchange` does, trailers filtered), and those
///   upstream bytes parse again as exactly one request with the same method, target, fields, body and trailers:
///   nothing the parser refused is forwarded, and what is forwarded cannot be read two ways.
public enum HTTP1RequestFuzz {
    /// Small bounds so the 431 and 414 paths are reachable with libFuzzer's inputs.
    static let limits = HTTP1Limits(maxHeaderBytes: 2048, maxTargetBytes: 512)

    /// One complete request as the gateway saw it: the head, body pieces as they arrived, trailers.
    struct Message {
        var head: HTTPRequestHead
        var body: [[UInt8]] = []
        var trailers: HTTPHeaders?
        var ended = false
    }

    public static func check(_ d: UnsafeRawBufferPointer) throws(InvariantViolation) {
        var messages: [Message] = []
        let whole = try drive(d, pieces: [d.count], limits: limits, messages: &messages)
        for plan in FuzzInput.splitPlans(d).dropFirst() {
            var ignored: [Message] = []
            let split = try drive(d, pieces: plan, limits: limits, messages: &ignored)
            guard split == whole else {
                throw InvariantViolation("http1-request", "split at \(plan.prefix(3)) gave [\(split.text)], whole gave [\(whole.text)]")
            }
        }
        for m in messages where m.ended { try forward(m) }
    }

    /// Feeds the pieces in order, like `ClientConnection.process`: parse the rest until a call consumes nothing and
    /// gives no event.
    static func drive(_ d: UnsafeRawBufferPointer, pieces: [Int], limits: HTTP1Limits,
                      messages: inout [Message]) throws(InvariantViolation) -> [HTTP1Record] {
        var parser = HTTP1RequestParser(limits: limits)
        var records: [HTTP1Record] = []
        var start = 0
        for end in pieces {
            let piece = UnsafeRawBufferPointer(rebasing: d[start..<end])
            start = end
            var offset = 0
            while true {
                let slice = UnsafeRawBufferPointer(rebasing: piece[offset...])
                let step: (consumed: Int, event: HTTP1RequestEvent?)
                do { step = try parser.parse(slice) } catch {
                    records.append(.error(error.status))
                    return records
                }
                guard step.consumed >= 0 && step.consumed <= slice.count else {
                    throw InvariantViolation("http1-request", "consumed \(step.consumed) of \(slice.count) bytes")
                }
                offset += step.consumed
                guard let event = step.event else {
                    if step.consumed == 0 {
                        if offset < piece.count {
                            throw InvariantViolation("http1-request", "no event and nothing consumed with \(piece.count - offset) bytes left")
                        }
                        break
                    }
                    continue
                }
                switch event {
                case .head(let head):
                    records.append(.head(describe(head)))
                    messages.append(Message(head: head))
                case .body(let range):
                    guard range.lowerBound >= 0 && range.upperBound <= slice.count else {
                        throw InvariantViolation("http1-request", "body range \(range) outside \(slice.count) bytes")
                    }
                    let bytes = UnsafeRawBufferPointer(rebasing: slice[range])
                    records.appendBody(bytes)
                    if !messages.isEmpty, !bytes.isEmpty { messages[messages.count - 1].body.append(Array(bytes)) }
                case .trailers(let t):
                    records.append(.trailers(HTTP1Record.fields(t)))
                    if !messages.isEmpty { messages[messages.count - 1].trailers = t }
                case .end:
                    records.append(.end)
                    if !messages.isEmpty { messages[messages.count - 1].ended = true }
                }
            }
        }
        return records
    }

    static func describe(_ h: HTTPRequestHead) -> String {
        "\(h.method) \(h.target) \(h.version.text) authority=\(h.authority ?? "-") framing=\(h.framing) keepAlive=\(h.keepAlive) "
            + HTTP1Record.text(HTTP1Record.fields(h.headers))
    }

    // MARK: forwarding

    /// A gate with one `auth: none` route on `/`: every request whose target normalizes is forwarded.
    static let gate: RequestGate = {
        var config = GatewayConfig()
        config.routes = [RouteConfig(pathPrefix: "/", upstream: "app", auth: .none)]
        config.replay.mode = .off
        let clock = ManualClock()
        return RequestGate(config: config, verifier: TokenVerifier(settings: VerifierSettings(apps: []), clock: clock),
                           clock: clock)
    }()
    static let identity = GatewayConfig().identityHeaders
    static let upstreamHost = "127.0.0.1:3000"

    /// The bytes the upstream gets for `m`, built as `ProxyExchange` builds them, parsed again.
    static func forward(_ m: Message) throws(InvariantViolation) {
        let original = m.head
        guard case .forward(let plan) = gate.evaluate(original, client: ClientInfo(remoteAddress: "192.0.2.7", isTLS: false)) else {
            return
        }
        // ProxyExchange.connect / attach.
        if plan.lacksHost { plan.head.headers.replace(name: "Host", value: upstreamHost) }
        var head = plan.head
        if !plan.isWebSocketUpgrade && plan.hasExpect { head.headers.removeAll(named: "Expect") }
        var wire: [UInt8] = []
        HTTP1Serializer.writeRequestHead(head, addingFraming: true, into: &wire)
        let chunked = head.framing == .chunked
        let trailers = m.trailers.map { TrailerFilter.filtered($0, identity: identity) }
        for piece in m.body {
            if chunked {
                HTTP1Serializer.writeChunkHeader(size: piece.count, into: &wire)
                wire += piece
                wire += HTTP1Serializer.chunkTerminator
            } else {
                wire += piece
            }
        }
        if chunked { HTTP1Serializer.writeLastChunk(trailers: trailers, into: &wire) }

        var expectedFields = HTTP1Record.fields(head.headers)
        switch head.framing {
        case .contentLength(let n): expectedFields.append(Array("Content-Length: \(n)".utf8))
        case .chunked: expectedFields.append(Array("Transfer-Encoding: chunked".utf8))
        case .none, .untilClose: break
        }
        var expected: [HTTP1Record] = [.head("\(head.method) \(head.target) \(HTTP1Record.text(expectedFields))")]
        let body = m.body.flatMap { $0 }
        if !body.isEmpty { expected.append(.body(body)) }
        if let trailers, !trailers.isEmpty { expected.append(.trailers(HTTP1Record.fields(trailers))) }
        expected.append(.end)

        var reparsed: [Message] = []
        var got = try FuzzInput.withBytes(wire) { (w) throws(InvariantViolation) -> [HTTP1Record] in
            try drive(w, pieces: [w.count], limits: HTTP1Limits(), messages: &reparsed)
        }
        // Compared on what the upstream acts on; the rest of the head (keep-alive, authority) is checked below.
        if case .head? = got.first, let h = reparsed.first?.head {
            got[0] = .head("\(h.method) \(h.target) \(HTTP1Record.text(HTTP1Record.fields(h.headers)))")
        }
        guard got == expected else {
            throw InvariantViolation("http1-request", "forwarded bytes \(FuzzInput.hex(wire)) parse as [\(got.text)], "
                                     + "expected [\(expected.text)]")
        }
        if let h = reparsed.first?.head {
            guard h.framing == head.framing, h.version == .http1_1 else {
                throw InvariantViolation("http1-request", "forwarded framing \(h.framing), planned \(head.framing)")
            }
            let want = original.authority ?? upstreamHost
            guard let got = h.authority, ASCII.equalsIgnoringCase(got.utf8, want.utf8) else {
                throw InvariantViolation("http1-request", "forwarded authority \(h.authority ?? "-"), client's \(want)")
            }
        }
    }
}
