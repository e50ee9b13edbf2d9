/// A claim value for `TokenMinter`: the JSON shapes a session token payload uses.
public enum ClaimValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case strings([String])

    /// The value as JSON text.
    var json: String {
        switch self {
        case .string(let s): return "\"" + s.jsonEscaped + "\""
        case .int(let v): return String(v)
        case .bool(let b): return b ? "true" : "false"
        case .strings(let list): return "[" + list.map { "\"" + $0.jsonEscaped + "\"" }.joined(separator: ",") + "]"
        }
    }
}
