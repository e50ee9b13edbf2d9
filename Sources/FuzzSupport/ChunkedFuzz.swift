import GatewayCore
import GatewayHTTP1

/// `fuzz-chunked`: the chunked-body decoder on its own (the input is a body, right after a head).
///
/// - Fed whole, at one or two input-derived splits, and byte by byte (short inputs), it produces the same records
///   and stops at the same byte.
/// - It never decodes more bytes than it was given.
/// - A body it completed, chunked again (chunk sizes taken from the input) with its trailers, decodes to the same
///   bytes and trailers, consuming exactly the re-chunked bytes.
public enum ChunkedFuzz {
    static let trailerLimit = 1024

    struct Outcome: Equatable {
        var records: [HTTP1Record] = []
        /// Bytes consumed up to and including the end of the body; nil when it did not end.
        var consumedAtEnd: Int?
    }

    public static func check(_ d: UnsafeRawBufferPointer) throws(InvariantViolation) {
        var trailers: HTTPHeaders?
        let whole = try drive(d, pieces: [d.count], trailers: &trailers)
        for plan in FuzzInput.splitPlans(d).dropFirst() {
            var ignored: HTTPHeaders?
            let split = try drive(d, pieces: plan, trailers: &ignored)
            guard split == whole else {
                throw InvariantViolation("chunked", "split at \(plan.prefix(3)) gave [\(split.records.text)] end \(split.consumedAtEnd ?? -1), "
                                         + "whole gave [\(whole.records.text)] end \(whole.consumedAtEnd ?? -1)")
            }
        }
        var body: [UInt8] = []
        if case .body(let b)? = whole.records.first { body = b }
        guard body.count <= d.count else {
            throw InvariantViolation("chunked", "decoded \(body.count) bytes from \(d.count)")
        }
        guard let end = whole.consumedAtEnd else { return }
        guard body.count <= end else { throw InvariantViolation("chunked", "decoded \(body.count) bytes from the first \(end)") }

        // Chunked again, as the proxy re-frames a body: sizes from the input, then the last chunk and the trailers.
        var wire: [UInt8] = []
        var rest = body[...]
        var k = 0
        while !rest.isEmpty {
            let size = min(rest.count, 1 + Int(d[k % d.count]))
            k += 1
            HTTP1Serializer.writeChunkHeader(size: size, into: &wire)
            wire += rest.prefix(size)
            wire += HTTP1Serializer.chunkTerminator
            rest = rest.dropFirst(size)
        }
        HTTP1Serializer.writeLastChunk(trailers: trailers, into: &wire)
        var again: HTTPHeaders?
        // Re-serialized trailers may be longer than sent (`name:value` gains a space), so the budget is the whole wire.
        let second = try FuzzInput.withBytes(wire) { (w) throws(InvariantViolation) -> Outcome in
            try drive(w, pieces: [w.count], trailers: &again, trailerLimit: max(trailerLimit, w.count))
        }
        var expected = Outcome()
        if !body.isEmpty { expected.records.append(.body(body)) }
        if let trailers { expected.records.append(.trailers(HTTP1Record.fields(trailers))) }
        expected.records.append(.end)
        expected.consumedAtEnd = wire.count
        guard second == expected else {
            throw InvariantViolation("chunked", "re-chunked \(FuzzInput.hex(wire)) decodes to [\(second.records.text)] end "
                                     + "\(second.consumedAtEnd ?? -1), expected [\(expected.records.text)] end \(wire.count)")
        }
    }

    /// Decodes one body from the pieces in order, as the parsers do; stops at its end or at the first error.
    static func drive(_ d: UnsafeRawBufferPointer, pieces: [Int], trailers: inout HTTPHeaders?,
                      trailerLimit: Int = ChunkedFuzz.trailerLimit) throws(InvariantViolation) -> Outcome {
        var decoder = ChunkedDecoder()
        var out = Outcome()
        var start = 0
        for end in pieces {
            let piece = UnsafeRawBufferPointer(rebasing: d[start..<end])
            var offset = 0
            defer { start = end }
            while offset < piece.count {
                let slice = UnsafeRawBufferPointer(rebasing: piece[offset...])
                let step: (consumed: Int, output: ChunkedDecoder.Output?)
                do { step = try decoder.decode(slice, trailerLimit: trailerLimit) } catch {
                    out.records.append(.error(error.status))
                    return out
                }
                guard step.consumed >= 0 && step.consumed <= slice.count else {
                    throw InvariantViolation("chunked", "consumed \(step.consumed) of \(slice.count) bytes")
                }
                offset += step.consumed
                guard let output = step.output else {
                    if step.consumed == 0 { throw InvariantViolation("chunked", "no output and nothing consumed") }
                    continue
                }
                switch output {
                case .body(let range):
                    guard range.lowerBound >= 0 && range.upperBound <= step.consumed else {
                        throw InvariantViolation("chunked", "body range \(range) outside the \(step.consumed) bytes consumed")
                    }
                    out.records.appendBody(UnsafeRawBufferPointer(rebasing: slice[range]))
                case .trailers(let t):
                    out.records.append(.trailers(HTTP1Record.fields(t)))
                    trailers = t
                    out.records.append(.end)
                    out.consumedAtEnd = start + offset
                    return out
                case .end:
                    out.records.append(.end)
                    out.consumedAtEnd = start + offset
                    return out
                }
            }
        }
        return out
    }
}
