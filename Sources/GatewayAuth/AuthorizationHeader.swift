/// Reads the token out of an `Authorization` value: `Bearer` (any case), exactly one space, the token.
public enum AuthorizationHeader {
    /// True for a value that is empty or only spaces and tabs: it carries no token, so it counts as an absent header
    /// (an `auth: optional` route forwards the request anonymously, `auth: required` answers `missing_token`).
    public static func isBlank(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        value.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }

    /// The token's byte range inside `value`, or the failure (`missing_token` for a blank value).
    static func tokenRange(in value: UnsafeBufferPointer<UInt8>) -> Result<Range<Int>, AuthFailure> {
        if isBlank(value) { return .failure(.missingToken) }
        let scheme: StaticString = "bearer"
        let schemeLength = scheme.utf8CodeUnitCount
        guard value.count > schemeLength + 1 else { return .failure(.malformedToken) }
        let s = scheme.utf8Start
        for i in 0..<schemeLength where value[i] | 0x20 != s[i] {
            return .failure(.malformedToken)
        }
        guard value[schemeLength] == UInt8(ascii: " ") else { return .failure(.malformedToken) }
        // Whatever follows (a second space, a tab, trailing blanks) is left for the token split to refuse.
        return .success((schemeLength + 1)..<value.count)
    }
}
