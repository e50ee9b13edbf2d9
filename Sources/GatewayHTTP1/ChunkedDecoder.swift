import GatewayCore

/// Decodes a chunked body (RFC 9112 7.1) as a state machine: chunk lines and CRLFs are checked byte by byte,
/// chunk data is handed out as ranges of the input without copying.
package struct ChunkedDecoder: Sendable {
    /// What one `decode` call produced.
    package enum Output: Sendable {
        case body(Range<Int>)
        case trailers(HTTPHeaders)
        case end
    }

    /// More hex digits than this could overflow (and no sane chunk needs them).
    static let maxSizeDigits = 15
    /// A chunk line (size plus extensions) longer than this is refused: extensions are not a storage area.
    static let maxChunkLineBytes = 4096

    private enum State: Sendable {
        case size
        /// After the size or a value: optional whitespace, then `;` or CRLF (whitespace then CRLF is refused).
        case boundary(sawWhitespace: Bool)
        case extNameStart
        case extName
        case extAfterName
        case extValueStart
        case extToken
        case extQuoted
        case extQuotedEscape
        case sizeLF
        case data(remaining: Int)
        case dataCR
        case dataLF
        case trailers
    }

    private var state: State = .size
    private var size = 0
    private var sizeDigits = 0
    private var lineBytes = 0
    private var trailerAccumulator = HeadAccumulator(mode: .trailers)

    package init() {}

    /// Decodes from the start of `input`; stops at the first output. `trailerLimit` is what is left of the head budget.
    package mutating func decode(_ input: UnsafeRawBufferPointer, trailerLimit: Int) throws(HTTP1ParseError) -> (consumed: Int, output: Output?) {
        var i = 0
        let n = input.count
        while i < n {
            switch state {
            case .data(let remaining):
                let take = min(remaining, n - i)
                let left = remaining - take
                state = left == 0 ? .dataCR : .data(remaining: left)
                return (i + take, .body(i..<(i + take)))
            case .trailers:
                let (used, block) = try trailerAccumulator.feed(UnsafeRawBufferPointer(rebasing: input[i...]), limit: trailerLimit)
                guard let block else { return (i + used, nil) }
                reset()
                return (i + used, try Self.parseTrailers(block))
            default:
                let b = input[i]
                i += 1
                try step(b)
            }
        }
        return (n, nil)
    }

    private mutating func step(_ b: UInt8) throws(HTTP1ParseError) {
        switch state {
        case .dataCR:
            guard b == ASCIIByte.cr else { throw .badRequest("chunk data not followed by CRLF") }
            state = .dataLF
            return
        case .dataLF:
            guard b == ASCIIByte.lf else { throw .badRequest("chunk data not followed by CRLF") }
            state = .size
            return
        case .sizeLF:
            guard b == ASCIIByte.lf else { throw .badRequest("bare CR in chunk line") }
            state = size == 0 ? .trailers : .data(remaining: size)
            size = 0
            sizeDigits = 0
            lineBytes = 0
            return
        default:
            break
        }
        lineBytes += 1
        if lineBytes > Self.maxChunkLineBytes { throw .badRequest("chunk line too long") }
        switch state {
        case .size:
            if let v = ASCIIByte.hexValue(b) {
                sizeDigits += 1
                if sizeDigits > Self.maxSizeDigits { throw .badRequest("chunk size too long") }
                size = size << 4 | v
                return
            }
            guard sizeDigits > 0 else { throw .badRequest("invalid chunk size") }
            try boundary(b, sawWhitespace: false)
        case .boundary(let ws):
            try boundary(b, sawWhitespace: ws)
        case .extNameStart:
            if ASCIIByte.isWhitespace(b) { return }
            guard ASCII.isTokenChar(b) else { throw .badRequest("invalid chunk extension") }
            state = .extName
        case .extName:
            if ASCII.isTokenChar(b) { return }
            if ASCIIByte.isWhitespace(b) { state = .extAfterName; return }
            if b == ASCIIByte.equals { state = .extValueStart; return }
            try boundary(b, sawWhitespace: false)
        case .extAfterName:
            if ASCIIByte.isWhitespace(b) { return }
            if b == ASCIIByte.equals { state = .extValueStart; return }
            try boundary(b, sawWhitespace: true)
        case .extValueStart:
            if ASCIIByte.isWhitespace(b) { return }
            if b == ASCIIByte.quote { state = .extQuoted; return }
            guard ASCII.isTokenChar(b) else { throw .badRequest("invalid chunk extension value") }
            state = .extToken
        case .extToken:
            if ASCII.isTokenChar(b) { return }
            try boundary(b, sawWhitespace: false)
        case .extQuoted:
            if b == ASCIIByte.quote { state = .boundary(sawWhitespace: false); return }
            if b == ASCIIByte.backslash { state = .extQuotedEscape; return }
            guard ASCII.isFieldValueChar(b) else { throw .badRequest("invalid quoted chunk extension") }
        case .extQuotedEscape:
            guard ASCII.isFieldValueChar(b) else { throw .badRequest("invalid quoted chunk extension") }
            state = .extQuoted
        default:
            break
        }
    }

    /// Between extensions: whitespace, `;` (next extension) or CR (end of the chunk line).
    private mutating func boundary(_ b: UInt8, sawWhitespace: Bool) throws(HTTP1ParseError) {
        if ASCIIByte.isWhitespace(b) {
            state = .boundary(sawWhitespace: true)
        } else if b == ASCIIByte.semicolon {
            state = .extNameStart
        } else if b == ASCIIByte.cr && !sawWhitespace {
            state = .sizeLF
        } else {
            throw .badRequest("invalid chunk line")
        }
    }

    private mutating func reset() {
        state = .size
        size = 0
        sizeDigits = 0
        lineBytes = 0
    }

    private static func parseTrailers(_ block: [UInt8]) throws(HTTP1ParseError) -> Output {
        if block.count == 2 { return .end }
        var headers = HTTPHeaders(storage: block, capacity: 4)
        var framing = FramingFields()
        let result: Result<Void, HTTP1ParseError> = block.withUnsafeBufferPointer { s in
            do throws(HTTP1ParseError) {
                try FieldLines.parse(s, from: 0, into: &headers, framing: &framing)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
        return .trailers(headers)
    }
}
