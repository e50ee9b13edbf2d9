import GatewayCore
@testable import GatewayHTTP1
import TestSupport

/// How a message is cut into reads.
enum Feed: CustomStringConvertible, CaseIterable {
    case whole, byteByByte, randomSplits

    var description: String {
        switch self {
        case .whole: return "whole"
        case .byteByByte: return "byte by byte"
        case .randomSplits: return "random splits"
        }
    }

    func chunks(_ bytes: [UInt8], seed: UInt64 = 42) -> [[UInt8]] {
        switch self {
        case .whole:
            return [bytes]
        case .byteByByte:
            return bytes.map { [$0] }
        case .randomSplits:
            var rng = SplitMix64(seed: seed &+ UInt64(bytes.count))
            var out: [[UInt8]] = []
            var i = 0
            while i < bytes.count {
                let n = Int.random(in: 1...max(1, min(64, bytes.count / 3 + 1)), using: &rng)
                let j = min(bytes.count, i + n)
                out.append(Array(bytes[i..<j]))
                i = j
            }
            return out
        }
    }
}

/// What a parser produced for a whole message: events as text (body bytes merged) and the error, if any.
struct Outcome: Equatable, CustomStringConvertible {
    var events: [String] = []
    var bodies: [[UInt8]] = []
    var errorStatus: Int?
    var error: HTTP1ParseError?

    var description: String { "\(events) error=\(String(describing: error))" }

    static func == (a: Outcome, b: Outcome) -> Bool {
        a.events == b.events && a.bodies == b.bodies && a.errorStatus == b.errorStatus
    }

    mutating func appendBody(_ bytes: UnsafeRawBufferPointer) {
        if events.last == "body" {
            bodies[bodies.count - 1].append(contentsOf: bytes)
        } else {
            events.append("body")
            bodies.append(Array(bytes))
        }
    }

    /// The first head event's text.
    var head: String? { events.first { $0.hasPrefix("head ") } }
    var body: [UInt8] { bodies.reduce([], +) }
}

func describe(_ head: HTTPRequestHead) -> String {
    let fields = head.headers.pairs.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
    return "head \(head.method) \(head.target) \(head.version.text) authority=\(head.authority ?? "-") "
        + "framing=\(head.framing) keepAlive=\(head.keepAlive) [\(fields)]"
}

func describe(_ head: HTTPResponseHead) -> String {
    let fields = head.headers.pairs.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
    return "head \(head.version.text) \(head.status) \(head.reason) framing=\(head.framing) keepAlive=\(head.keepAlive) [\(fields)]"
}

func describe(trailers: HTTPHeaders) -> String {
    "trailers [" + trailers.pairs.map { "\($0.name)=\($0.value)" }.joined(separator: ",") + "]"
}

/// Feeds `chunks` to a request parser the way a connection would: unconsumed bytes stay buffered.
func runRequests(_ chunks: [[UInt8]], limits: HTTP1Limits = HTTP1Limits()) -> Outcome {
    var parser = HTTP1RequestParser(limits: limits)
    var out = Outcome()
    var buffer: [UInt8] = []
    var read = 0
    for chunk in chunks {
        buffer.append(contentsOf: chunk)
        while true {
            let step: Result<(Int, HTTP1RequestEvent?), HTTP1ParseError> = buffer.withUnsafeBytes { raw in
                let rest = UnsafeRawBufferPointer(rebasing: raw[read...])
                do throws(HTTP1ParseError) {
                    let (consumed, event) = try parser.parse(rest)
                    if case .body(let r)? = event { out.appendBody(UnsafeRawBufferPointer(rebasing: rest[r])) }
                    return .success((consumed, event))
                } catch {
                    return .failure(error)
                }
            }
            guard case .success(let (consumed, event)) = step else {
                if case .failure(let error) = step { out.error = error; out.errorStatus = error.status }
                return out
            }
            read += consumed
            switch event {
            case .head(let h)?: out.events.append(describe(h))
            case .trailers(let t)?: out.events.append(describe(trailers: t))
            case .end?: out.events.append("end")
            case .body?, nil: break
            }
            if consumed == 0 && event == nil { break }
        }
        if read == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            read = 0
        }
    }
    return out
}

/// Feeds `chunks` to a response parser, then reports the upstream closing.
func runResponse(_ chunks: [[UInt8]], method: String = "GET", limits: HTTP1Limits = HTTP1Limits()) -> Outcome {
    var parser = HTTP1ResponseParser(limits: limits)
    parser.expectResponse(toMethod: method)
    var out = Outcome()
    var buffer: [UInt8] = []
    var read = 0
    func record(_ event: HTTP1ResponseEvent?) {
        switch event {
        case .head(let h)?: out.events.append(describe(h))
        case .trailers(let t)?: out.events.append(describe(trailers: t))
        case .end?: out.events.append("end")
        case .body?, nil: break
        }
    }
    for chunk in chunks {
        buffer.append(contentsOf: chunk)
        while true {
            let step: Result<(Int, HTTP1ResponseEvent?), HTTP1ParseError> = buffer.withUnsafeBytes { raw in
                let rest = UnsafeRawBufferPointer(rebasing: raw[read...])
                do throws(HTTP1ParseError) {
                    let (consumed, event) = try parser.parse(rest)
                    if case .body(let r)? = event { out.appendBody(UnsafeRawBufferPointer(rebasing: rest[r])) }
                    return .success((consumed, event))
                } catch {
                    return .failure(error)
                }
            }
            guard case .success(let (consumed, event)) = step else {
                if case .failure(let error) = step { out.error = error; out.errorStatus = error.status }
                return out
            }
            read += consumed
            record(event)
            if consumed == 0 && event == nil { break }
        }
    }
    do throws(HTTP1ParseError) {
        let event = try parser.inputClosed()
        if event != nil { out.events.append("closed:") }
        record(event)
    } catch {
        out.error = error
        out.errorStatus = error.status
    }
    return out
}

/// Runs every feed and returns the common outcome; records an issue through `mismatch` when feeds disagree.
func requestOutcome(_ text: String, limits: HTTP1Limits = HTTP1Limits()) -> (Outcome, [String]) {
    outcomes(Array(text.utf8)) { runRequests($0, limits: limits) }
}

func requestOutcome(bytes: [UInt8], limits: HTTP1Limits = HTTP1Limits()) -> (Outcome, [String]) {
    outcomes(bytes) { runRequests($0, limits: limits) }
}

func responseOutcome(_ text: String, method: String = "GET") -> (Outcome, [String]) {
    outcomes(Array(text.utf8)) { runResponse($0, method: method) }
}

private func outcomes(_ bytes: [UInt8], _ run: ([[UInt8]]) -> Outcome) -> (Outcome, [String]) {
    let whole = run(Feed.whole.chunks(bytes))
    var mismatches: [String] = []
    for feed in [Feed.byteByByte, .randomSplits] {
        let other = run(feed.chunks(bytes))
        if other != whole { mismatches.append("\(feed): \(other) vs whole: \(whole)") }
    }
    for seed in [UInt64(1), 7, 1234] {
        let other = run(Feed.randomSplits.chunks(bytes, seed: seed))
        if other != whole { mismatches.append("random seed \(seed): \(other) vs whole: \(whole)") }
    }
    return (whole, mismatches)
}
