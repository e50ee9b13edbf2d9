import GatewayCore

/// A strict RFC 9112 request parser: bytes in, events out, no I/O. One per client connection.
public struct HTTP1RequestParser: Sendable {
    private enum Phase: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunked
        case endPending
        case failed(HTTP1ParseError)
    }

    private let limits: HTTP1Limits
    private var phase: Phase = .head
    private var accumulator: HeadAccumulator
    private var chunked = ChunkedDecoder()
    private var headBytes = 0

    public init(limits: HTTP1Limits) {
        self.limits = limits
        accumulator = HeadAccumulator(mode: .requestHead, maxTargetBytes: limits.maxTargetBytes)
    }

    /// Between messages with no partial bytes held: the keep-alive timeout applies, not the header timeout.
    public var isIdle: Bool {
        if case .head = phase { return accumulator.isEmpty }
        return false
    }

    /// Part of a request head has arrived but not all of it: the header timeout applies.
    public var hasPartialHead: Bool {
        if case .head = phase { return !accumulator.isEmpty }
        return false
    }

    /// Parses from the start of `input`; returns how many bytes were consumed and at most one event.
    /// Call repeatedly on the unconsumed rest until it consumes 0 bytes with no event (needs more input).
    /// After an error the parser stays failed and throws the same error again.
    public mutating func parse(_ input: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> (consumed: Int, event: HTTP1RequestEvent?) {
        do throws(HTTP1ParseError) {
            return try step(input)
        } catch {
            phase = .failed(error)
            throw error
        }
    }

    private mutating func step(_ input: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> (consumed: Int, event: HTTP1RequestEvent?) {
        switch phase {
        case .failed(let error):
            throw error
        case .endPending:
            phase = .head
            return (0, .end)
        case .head:
            let (used, block) = try accumulator.feed(input, limit: limits.maxHeaderBytes)
            guard let block else { return (used, nil) }
            headBytes = block.count
            let head = try Self.parseHead(block)
            switch head.framing {
            case .contentLength(let n) where n > 0: phase = .fixedBody(remaining: n)
            case .chunked: phase = .chunked
            default: phase = .endPending
            }
            return (used, .head(head))
        case .fixedBody(let remaining):
            guard !input.isEmpty else { return (0, nil) }
            let take = min(remaining, input.count)
            phase = take == remaining ? .endPending : .fixedBody(remaining: remaining - take)
            return (take, .body(0..<take))
        case .chunked:
            let (used, output) = try chunked.decode(input, trailerLimit: max(2, limits.maxHeaderBytes - headBytes))
            switch output {
            case nil: return (used, nil)
            case .body(let r): return (used, .body(r))
            case .trailers(let t):
                phase = .endPending
                return (used, .trailers(t))
            case .end:
                phase = .head
                return (used, .end)
            }
        }
    }
}
