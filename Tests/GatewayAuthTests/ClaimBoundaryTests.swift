import GatewayCore
import Testing
@testable import GatewayAuth

/// Exact edges of the time rules, skew S = 10: expired when T >= exp + S, early when T < nbf - S,
/// future when iat > T + S, too long when exp - iat > maxLifetime.
@Suite struct ClaimBoundaryTests {
    let exp: Int64 = Fixtures.now + 300
    let token = Fixtures.token()

    private func result(at time: Int64, _ token: String) -> AuthFailure? {
        Fixtures.verifier(at: time).verify(token: token).failure
    }

    @Test func expBoundary() {
        #expect(result(at: exp, token) == nil)                       // at exactly exp: inside the skew
        #expect(result(at: exp + Fixtures.skew - 1, token) == nil)
        #expect(result(at: exp + Fixtures.skew, token) == .tokenExpired)
    }

    @Test func nbfBoundary() {
        // {…,"exp":now+300,"nbf":now+100,"iat":now,…}
        let early = Fixtures.token([("nbf", .int(Fixtures.now + 100))])
        #expect(result(at: Fixtures.now + 100 - Fixtures.skew, early) == nil)
        #expect(result(at: Fixtures.now + 100 - Fixtures.skew - 1, early) == .tokenNotYetValid)
    }

    @Test func iatBoundary() {
        // iat = T + S is accepted, T + S + 1 is in the future.
        let atSkew = Fixtures.token([("iat", .int(Fixtures.now + Fixtures.skew)), ("nbf", nil)])
        let pastSkew = Fixtures.token([("iat", .int(Fixtures.now + Fixtures.skew + 1)), ("nbf", nil)])
        #expect(result(at: Fixtures.now, atSkew) == nil)
        #expect(result(at: Fixtures.now, pastSkew) == .tokenIssuedInFuture)
    }

    @Test func fractionalTimesAreFloored() {
        // {"exp":1700000300.9,…} is read as 1700000300.
        let payload = #"{"dest":"store.myshopify.com","aud":"client-a","exp":1700000300.9,"iat":1.7e9}"#
        let token = Fixtures.rawToken(payload: payload)
        #expect(result(at: exp + Fixtures.skew - 1, token) == nil)
        #expect(result(at: exp + Fixtures.skew, token) == .tokenExpired)
    }

    @Test func hugeNumbersAreMalformedNotOverflowing() {
        let payload = #"{"dest":"store.myshopify.com","aud":"client-a","exp":9223372036854775807}"#
        #expect(result(at: Fixtures.now, Fixtures.rawToken(payload: payload)) == .malformedToken)
        let negative = #"{"dest":"store.myshopify.com","aud":"client-a","exp":-1e300}"#
        #expect(result(at: Fixtures.now, Fixtures.rawToken(payload: negative)) == .malformedToken)
    }

    @Test func checkTimesDirectly() {
        let c = TokenClaims(exp: 1000, nbf: 900, iat: 900)
        #expect(ClaimRules.checkTimes(c, now: 1009, skew: 10, maxLifetime: 900) == nil)
        #expect(ClaimRules.checkTimes(c, now: 1010, skew: 10, maxLifetime: 900) == .tokenExpired)
        #expect(ClaimRules.checkTimes(c, now: 889, skew: 10, maxLifetime: 900) == .tokenNotYetValid)
        #expect(ClaimRules.checkTimes(c, now: 890, skew: 10, maxLifetime: 900) == nil)
        #expect(ClaimRules.checkTimes(c, now: 950, skew: 10, maxLifetime: 99) == .tokenLifetimeTooLong)
        #expect(ClaimRules.checkTimes(c, now: 950, skew: 10, maxLifetime: 100) == nil)
        #expect(ClaimRules.checkTimes(TokenClaims(exp: .max), now: 0, skew: .max, maxLifetime: .max) == nil)
    }
}
