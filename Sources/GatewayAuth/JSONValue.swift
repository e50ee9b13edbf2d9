/// A member value of a flat JSON object, as the token reader keeps it.
package enum JSONValue: Equatable, Sendable {
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
package struct JSONMember: Sendable {
    package let key: String
    package let value: JSONValue
    /// The key when it is one the verifier reads; classified once from the bytes instead of string compares.
    let known: KnownKey

    init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
        var text = key
        known = text.withUTF8 { KnownKey($0) }
    }
}

/// Header and claim names the verifier looks at.
enum KnownKey: UInt8, Sendable {
    case alg, typ, crit, aud, exp, nbf, iat, dest, iss, sub, jti, other

    init(_ b: UnsafeBufferPointer<UInt8>) {
        switch b.count {
        case 3:
            switch (b[0], b[1], b[2]) {
            case (0x61, 0x6C, 0x67): self = .alg  // alg
            case (0x74, 0x79, 0x70): self = .typ  // typ
            case (0x61, 0x75, 0x64): self = .aud  // aud
            case (0x65, 0x78, 0x70): self = .exp  // exp
            case (0x6E, 0x62, 0x66): self = .nbf  // nbf
            case (0x69, 0x61, 0x74): self = .iat  // iat
            case (0x69, 0x73, 0x73): self = .iss  // iss
            case (0x73, 0x75, 0x62): self = .sub  // sub
            case (0x6A, 0x74, 0x69): self = .jti  // jti
            default: self = .other
            }
        case 4:
            switch (b[0], b[1], b[2], b[3]) {
            case (0x63, 0x72, 0x69, 0x74): self = .crit  // crit
            case (0x64, 0x65, 0x73, 0x74): self = .dest  // dest
            default: self = .other
            }
        default:
            self = .other
        }
    }
}

extension [JSONMember] {
    /// The value of the member named `key`, if any (names are unique: the reader rejects duplicates).
    func value(of key: KnownKey) -> JSONValue? {
        for member in self where member.known == key { return member.value }
        return nil
    }
}
