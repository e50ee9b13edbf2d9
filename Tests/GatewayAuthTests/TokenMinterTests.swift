import Testing
@testable import GatewayAuth

@Suite struct TokenMinterTests {
    @Test func mintedTokenHasCanonicalHeaderAndVerifies() {
        let token = TokenMinter.mint(shop: "store.myshopify.com", clientId: "client-a", issuedAt: Fixtures.now,
                                     jti: "j-1", subject: "gid://shopify/Customer/9", secret: Fixtures.currentSecret)
        #expect(token.hasPrefix("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."))
        #expect(JWS.verifyHS256(token: token, key: Fixtures.currentSecret))
        #expect(Fixtures.verifier().verify(token: token).verdict?.customerNumericId == "9")
    }

    @Test func mintEscapesClaimText() {
        let token = TokenMinter.mint(claims: [("note", .string("a\"b\n")), ("n", .int(1)), ("b", .bool(true))], secret: [1])
        guard case .success(let decoded) = TokenInspector.decode(token) else {
            Issue.record("inspect failed")
            return
        }
        #expect(decoded.headerJSON == #"{"alg":"HS256","typ":"JWT"}"#)
        #expect(decoded.payloadJSON == #"{"note":"a\"b\n","n":1,"b":true}"#)
    }

    @Test func inspectorAcceptsBearerPrefixAndRejectsJunk() {
        let token = Fixtures.token()
        guard case .success(let decoded) = TokenInspector.decode("Bearer " + token) else {
            Issue.record("inspect failed")
            return
        }
        #expect(decoded.payloadJSON.contains(#""aud":"client-a""#))
        #expect(TokenInspector.decode("a.b.c") == .failure(.malformedToken))
        #expect(TokenInspector.decode(JWSTests.rfcToken).map(\.headerJSON) == .success("{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}"))
    }
}
