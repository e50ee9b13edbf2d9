/// A member value of a flat JSON object, as the token reader keeps it.
enum JSONValue: Equatable, Sendable {
    case string(String)
    /// A number floored to whole seconds; nil when it is outside ±10^15 (no real NumericDate is).
    case number(Int64?)
    case bool(Bool)
    case null
    /// An array whose elements are all strings (`aud` may be one).
    case stringArray([String])
    /// A nested object or a mixed array: checked for syntax, then dropped.
    case other

    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// One `"key": value` pair of a flat object (a struct, not a tuple: tuple metadata is built at run time).
struct JSONMember: Sendable {
    let key: String
    let value: JSONValue
}
