import GatewayCore
import GatewayHTTP1

/// `fuzz-http1-response`: the strict response parser, for a request method taken from the first byte (HEAD when it
/// is odd, GET otherwise: framing depends on it).
///
/// - Fed whole, at one or two input-derived splits, and byte by byte (short inputs), it produces the same records,
///   including what the upstream closing after the last byte means (`inputClosed`).
/// - It never leaves bytes unconsumed without an event, except after a 101 (they belong to the new protocol),
///   and never hands out a body range outside the bytes it was given.
/// - A response to HEAD, a 1xx, 204 or 304 carries no body.
public enum HTTP1ResponseFuzz {
    static let limits = HTTP1Limits(maxHeaderBytes: 2048, maxTargetBytes: 512)

    public static func check(_ data: UnsafeRawBufferPointer) throws(InvariantViolation) {
        guard let first = data.first else { return }
        let method = first & 1 == 1 ? "HEAD" : "GET"
        let d = UnsafeRawBufferPointer(rebasing: data[1...])
        let whole = try drive(d, pieces: [d.count], method: method)
        for plan in FuzzInput.splitPlans(d).dropFirst() {
            let split = try drive(d, pieces: plan, method: method)
            guard split == whole else {
                throw InvariantViolation("http1-response", "\(method): split at \(plan.prefix(3)) gave [\(split.text)], whole gave [\(whole.text)]")
            }
        }
    }

    /// Feeds the pieces in order, like `UpstreamConnection`, then tells the parser the upstream closed.
    static func drive(_ d: UnsafeRawBufferPointer, pieces: [Int], method: String) throws(InvariantViolation) -> [HTTP1Record] {
        var parser = HTTP1ResponseParser(limits: limits)
        parser.expectResponse(toMethod: method)
        var records: [HTTP1Record] = []
        var bodyless = false
        var start = 0
        for end in pieces {
            let piece = UnsafeRawBufferPointer(rebasing: d[start..<end])
            start = end
            var offset = 0
            while true {
                let slice = UnsafeRawBufferPointer(rebasing: piece[offset...])
                var event: HTTP1ResponseEvent?
                let consumed: Int
                do { consumed = try parser.parse(slice, event: &event) } catch {
                    records.append(.error(error.status))
                    return records
                }
                guard consumed >= 0 && consumed <= slice.count else {
                    throw InvariantViolation("http1-response", "consumed \(consumed) of \(slice.count) bytes")
                }
                offset += consumed
                guard let event else {
                    if consumed == 0 {
                        if offset < piece.count && !parser.switchedProtocols {
                            throw InvariantViolation("http1-response", "no event and nothing consumed with \(piece.count - offset) bytes left")
                        }
                        break
                    }
                    continue
                }
                switch event {
                case .head(let h):
                    records.append(.head("\(h.status) \(h.reason) \(h.version.text) framing=\(h.framing) keepAlive=\(h.keepAlive) "
                                         + HTTP1Record.text(HTTP1Record.fields(h.headers))))
                    let noBody = h.status < 200 || h.status == 204 || h.status == 304 || method == "HEAD"
                    if noBody && h.framing != .none {
                        throw InvariantViolation("http1-response", "\(method) \(h.status) framed as \(h.framing)")
                    }
                    bodyless = noBody
                case .body(let range):
                    guard range.lowerBound >= 0 && range.upperBound <= slice.count else {
                        throw InvariantViolation("http1-response", "body range \(range) outside \(slice.count) bytes")
                    }
                    if bodyless && !range.isEmpty {
                        throw InvariantViolation("http1-response", "body bytes after a bodyless head")
                    }
                    records.appendBody(UnsafeRawBufferPointer(rebasing: slice[range]))
                case .trailers(let t):
                    records.append(.trailers(HTTP1Record.fields(t)))
                case .end:
                    records.append(.end)
                    // One request at a time upstream: the next response answers a request of the same method.
                    if !parser.switchedProtocols { parser.expectResponse(toMethod: method) }
                }
            }
        }
        do {
            if let last = try parser.inputClosed() {
                if case .end = last { records.append(.end) } else { records.append(.head("inputClosed gave \(last)")) }
            }
        } catch {
            records.append(.error(error.status))
        }
        return records
    }
}
