import Testing
@testable import GatewayAuth

@Suite struct AuthorizationHeaderTests {
    let verifier = Fixtures.verifier()
    let token = Fixtures.token()

    @Test(arguments: ["Bearer ", "bearer ", "BEARER ", "BeArEr "])
    func schemeIsCaseInsensitive(prefix: String) {
        #expect(verifier.verify(authorization: prefix + token).failure == nil)
    }

    @Test(arguments: ["Bearer  ", "Bearer\t", "", "Basic ", "Token ", "Bearer:", "Bearer"])
    func otherPrefixesAreMalformed(prefix: String) {
        #expect(verifier.verify(authorization: prefix + token).failure == .malformedToken)
    }

    @Test func trailingOrInnerBlanksAreMalformed() {
        #expect(verifier.verify(authorization: "Bearer " + token + " ").failure == .malformedToken)
        #expect(verifier.verify(authorization: "Bearer " + token + "\t").failure == .malformedToken)
        #expect(verifier.verify(authorization: " Bearer " + token).failure == .malformedToken)
        #expect(verifier.verify(authorization: "Bearer x").failure == .malformedToken)
        #expect(verifier.verify(authorization: "bearer x").failure == .malformedToken)
        #expect(verifier.verify(authorization: "BEARER x").failure == .malformedToken)
        #expect(verifier.verify(authorization: "Bearer ").failure == .malformedToken)
        #expect(verifier.verify(authorization: "Bearer").failure == .malformedToken)
    }

    @Test func emptyValueIsMissingToken() {
        #expect(verifier.verify(authorization: "").failure == .missingToken)
    }

    /// Only blanks carry no token either: the gate treats them as an absent header.
    @Test(arguments: [" ", "   ", "\t", " \t "])
    func blankValueIsMissingToken(_ value: String) {
        #expect(verifier.verify(authorization: value).failure == .missingToken)
        var bytes = value
        #expect(bytes.withUTF8 { AuthorizationHeader.isBlank($0) })
    }

    @Test(arguments: ["Bearer", " x", "x ", "\u{0B}", "Bearer " + Fixtures.token()])
    func valueWithAnythingElseIsNotBlank(_ value: String) {
        var bytes = value
        #expect(!bytes.withUTF8 { AuthorizationHeader.isBlank($0) })
    }

    @Test func bytesEntryPointMatchesStringOne() {
        let value = Array(("Bearer " + token).utf8)
        let r = value.withUnsafeBufferPointer { verifier.verify(authorizationBytes: $0) }
        #expect(r.failure == nil)
    }

    @Test(arguments: ["a.b.c=", "a..c", ".b.c", "a.b.", "a.b.c.d", "a+b.c.d", "a/b.c.d", "a b.c.d", "ab.c\u{00e9}.d"])
    func tokenShapeIsStrict(bad: String) {
        #expect(verifier.verify(token: bad).failure == .malformedToken)
    }
}
