import GatewayCore
import GatewayHTTP1

/// What a parser produced, in a form two runs can be compared by: heads by value, body bytes concatenated per message,
/// trailers by value, ends, and the status of the error that stopped it.
enum HTTP1Record: Equatable, CustomStringConvertible {
    case head(String)
    case body([UInt8])
    case trailers([[UInt8]])
    case end
    case error(Int)

    var description: String {
        switch self {
        case .head(let h): return "head(\(h))"
        case .body(let b): return "body(\(b.count) bytes: \(FuzzInput.hex(b.prefix(32))))"
        case .trailers(let t): return "trailers(\(t.map { String(decoding: $0, as: UTF8.self) }))"
        case .end: return "end"
        case .error(let s): return "error(\(s))"
        }
    }

    /// The fields as `name: value` byte strings, in order.
    static func fields(_ h: HTTPHeaders) -> [[UInt8]] {
        (0..<h.count).map { Array(h.nameBytes($0)) + [0x3A, 0x20] + Array(h.valueBytes($0)) }
    }

    static func text(_ fields: [[UInt8]]) -> String {
        fields.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " | ")
    }
}

extension [HTTP1Record] {
    /// Appends body bytes to the body record right before, so the records do not depend on how input was cut.
    mutating func appendBody(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if case .body(var previous)? = last {
            removeLast()
            previous.append(contentsOf: bytes)
            append(.body(previous))
        } else {
            append(.body([UInt8](bytes)))
        }
    }

    var text: String { map(\.description).joined(separator: ", ") }
}
