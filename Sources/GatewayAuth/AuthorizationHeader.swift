/// Reads the token out of an `Authorization` value: `Bearer` (any case), exactly one space, the token.
enum AuthorizationHeader {
    /// The token's byte range inside `value`, or the failure (`missing_token` for an empty value).
    static func tokenRange(in value: UnsafeBufferPointer<UInt8>) -> Result<Range<Int>, AuthFailure> {
        if value.isEmpty { return .failure(.missingToken) }
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
