import Testing
@testable import GatewayAuth

@Suite struct JWSTests {
    let verifier = Fixtures.verifier()

    /// RFC 7515 appendix A.1: header {"typ":"JWT",\r\n "alg":"HS256"}, payload
    /// {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}.
    static let rfcToken = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    static let rfcKey = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"

    @Test func rfc7515A1SignatureVerifiesWithPublishedKey() throws {
        let key = try #require(Base64URL.decode(Array(Self.rfcKey.utf8)))
        #expect(key.count == 64)
        #expect(JWS.verifyHS256(token: Self.rfcToken, key: key))
        #expect(!JWS.verifyHS256(token: Self.rfcToken, key: Array(key.dropLast())))
    }

    @Test func rfc7515A1IsExpiredNow() throws {
        let segments = Self.rfcToken.split(separator: ".")
        let payload = try #require(Base64URL.decode(Array(segments[1].utf8)))
        let members = try #require(FlatJSONReader.parseObject(payload))
        guard case .success(let claims) = TokenClaims.extract(from: members) else {
            Issue.record("claims did not extract")
            return
        }
        #expect(claims.exp == 1_300_819_380)
        #expect(claims.iss == "joe")
        #expect(ClaimRules.checkTimes(claims, now: SystemClockNow.value, skew: 10, maxLifetime: 900) == .tokenExpired)
        #expect(ClaimRules.checkTimes(claims, now: 1_300_819_379, skew: 0, maxLifetime: .max) == nil)
    }

    @Test(arguments: [
        #"{"alg":"none","typ":"JWT"}"#, #"{"alg":"hs256"}"#, #"{"alg":"HS512"}"#, #"{"alg":"RS256"}"#,
        #"{"typ":"JWT"}"#, #"{"alg":256}"#, #"{"alg":null}"#, #"{"alg":"HS256 "}"#, #"{"alg":["HS256"]}"#,
    ])
    func algVariantsAreUnsupported(header: String) {
        // Payload otherwise valid; for "none" the signature is still present so only the header decides.
        let token = Fixtures.rawToken(payload: #"{"dest":"store.myshopify.com","aud":"client-a","exp":1700000300}"#, header: header)
        #expect(verifier.verify(token: token).failure == .unsupportedAlgorithm)
        #expect(!JWS.verifyHS256(token: token, key: Fixtures.currentSecret))
    }

    @Test func headerThatIsNotAnObjectIsMalformed() {
        for header in ["[]", "\"HS256\"", "{", #"{"alg":"HS256"} x"#] {
            let token = Fixtures.rawToken(payload: "{}", header: header)
            #expect(verifier.verify(token: token).failure == .malformedToken, "\(header)")
        }
    }

    @Test func nonCanonicalHeaderStillWorks() {
        // {"typ":"JWT", "alg":"HS256", "kid":"k1"}: extra members and whitespace are fine.
        let token = Fixtures.rawToken(payload: #"{"dest":"store.myshopify.com","aud":"client-a","exp":1700000300}"#,
                                      header: #"{"typ":"JWT", "alg":"HS256", "kid":"k1"}"#)
        #expect(verifier.verify(token: token).failure == nil)
    }

    @Test func hmacMatchesRFC4231Case2() throws {
        // Key "Jefe", data "what do ya want for nothing?".
        let tag = try #require(HMACSHA256Key(secret: Array("Jefe".utf8)).tag(of: Array("what do ya want for nothing?".utf8)))
        let hex = tag.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        #expect(hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}

import GatewayCore

/// The real current time, read once: the A.1 test must hold "now", not a fixed fixture time.
enum SystemClockNow {
    static var value: Int64 { SystemClock().wallSeconds() }
}
