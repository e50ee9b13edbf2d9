import GatewayCore

/// A strict RFC 9112 response parser for upstream connections: bytes in, events out, no I/O.
public struct HTTP1ResponseParser: Sendable {
    private enum Phase: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunked
        case untilClose
        case endPending(upgraded: Bool)
        /// After a 101: the bytes belong to the new protocol, the parser takes none.
        case upgraded
        case failed(HTTP1ParseError)
    }

    private let limits: HTTP1Limits
    private var phase: Phase = .head
    private var accumulator = HeadAccumulator(mode: .responseHead)
    private var chunked = ChunkedDecoder()
    private var headBytes = 0
    private var requestWasHead = false
    /// The entry array of a head given back by `recycle`, for the next head.
    private var spareFields = HTTPHeaders()


    public init(limits: HTTP1Limits) {
        self.limits = limits
    }

    /// Must be called before each response: HEAD and 304/204/1xx have no body; a 2xx to CONNECT is not used.
    /// One outstanding request at a time (the gateway does not pipeline upstream).
    public mutating func expectResponse(toMethod method: String) {
        requestWasHead = method == "HEAD"
    }

    /// The last head was a 101: only its `.end` is left, then the bytes belong to the new protocol. Lets a caller
    /// learn it without binding the head out of the event (a copy of every field array and string).
    public var switchedProtocols: Bool {
        switch phase {
        case .endPending(upgraded: true), .upgraded: return true
        default: return false
        }
    }

    /// Whether a recycled head's memory is waiting for the next head.
    public var hasSpare: Bool { accumulator.spare.capacity > 0 }

    /// Takes the fields of a finished head (from any parser) once the caller is done with them: the next head
    /// reuses their memory (two allocations fewer per response).
    public mutating func recycle(_ fields: consuming HTTPHeaders) {
        var f = consume fields
        guard f.storageCapacity <= HeaderFieldsPool.maxBytes else { return }
        accumulator.spare = f.takeStorage()
        spareFields = f
    }

    /// Parses from the start of `input`; returns how many bytes were consumed and at most one event.
    /// Call repeatedly on the unconsumed rest until it consumes 0 bytes with no event.
    public mutating func parse(_ input: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> (consumed: Int, event: HTTP1ResponseEvent?) {
        do throws(HTTP1ParseError) {
            return try step(input)
        } catch {
            phase = .failed(error)
            throw error
        }
    }

    /// `parse` with the event handed over in `event` (left nil when there is none) and the bytes consumed returned:
    /// taken apart from the returned tuple in another module, the event was copied (a retain of every field array
    /// and string of a head) and the original destroyed.
    public mutating func parse(_ input: UnsafeRawBufferPointer, event: inout HTTP1ResponseEvent?) throws(HTTP1ParseError) -> Int {
        var step = try parse(input)
        event = step.event.take()
        return step.consumed
    }

    /// The upstream closed: returns .end for a close-delimited body, throws for a truncated message.
    public mutating func inputClosed() throws(HTTP1ParseError) -> HTTP1ResponseEvent? {
        switch phase {
        case .failed(let error):
            throw error
        case .head:
            guard accumulator.isEmpty else { return try fail(.badRequest("upstream closed inside a response head")) }
            return nil
        case .untilClose:
            phase = .head
            return .end
        case .endPending(let upgraded):
            phase = upgraded ? .upgraded : .head
            return .end
        case .upgraded:
            return nil
        case .fixedBody, .chunked:
            return try fail(.badRequest("upstream closed inside a response body"))
        }
    }

    private mutating func fail(_ error: HTTP1ParseError) throws(HTTP1ParseError) -> HTTP1ResponseEvent? {
        phase = .failed(error)
        throw error
    }

    private mutating func step(_ input: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> (consumed: Int, event: HTTP1ResponseEvent?) {
        switch phase {
        case .failed(let error):
            throw error
        case .upgraded:
            return (0, nil)
        case .endPending(let upgraded):
            phase = upgraded ? .upgraded : .head
            requestWasHead = false
            return (0, .end)
        case .head:
            let (used, block) = try accumulator.feed(input, limit: limits.maxHeaderBytes)
            guard let block else { return (used, nil) }
            headBytes = block.count
            let head = try Self.parseHead(block, reusing: &spareFields, requestWasHead: requestWasHead)
            if head.status == 101 {
                phase = .endPending(upgraded: true)
            } else if head.isInformational {
                phase = .head
            } else {
                switch head.framing {
                case .contentLength(let n) where n > 0: phase = .fixedBody(remaining: n)
                case .chunked: phase = .chunked
                case .untilClose: phase = .untilClose
                default: phase = .endPending(upgraded: false)
                }
            }
            return (used, .head(head))
        case .fixedBody(let remaining):
            guard !input.isEmpty else { return (0, nil) }
            let take = min(remaining, input.count)
            phase = take == remaining ? .endPending(upgraded: false) : .fixedBody(remaining: remaining - take)
            return (take, .body(0..<take))
        case .untilClose:
            guard !input.isEmpty else { return (0, nil) }
            return (input.count, .body(0..<input.count))
        case .chunked:
            let (used, output) = try chunked.decode(input, trailerLimit: max(2, limits.maxHeaderBytes - headBytes))
            switch output {
            case nil: return (used, nil)
            case .body(let r): return (used, .body(r))
            case .trailers(let t):
                phase = .endPending(upgraded: false)
                return (used, .trailers(t))
            case .end:
                phase = .head
                requestWasHead = false
                return (used, .end)
            }
        }
    }
}
