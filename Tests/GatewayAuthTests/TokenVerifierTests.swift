import GatewayCore
import Testing
@testable import GatewayAuth

/// One fixture per contract code the verifier produces, named by its failure; all minted at `Fixtures.now`.
@Suite struct TokenVerifierTests {
    let verifier = Fixtures.verifier()

    @Test func acceptsExtensionTokenWithCustomer() throws {
        // {"dest":"store.myshopify.com","aud":"client-a","exp":now+300,"nbf":now,"iat":now,"jti":"0b6d…","sub":"gid://shopify/Customer/123"}
        let verdict = try #require(verifier.verify(authorization: "Bearer " + Fixtures.token()).verdict)
        #expect(verdict == TokenVerdict(
            clientId: "client-a", appIndex: 0, shopDomain: "store.myshopify.com",
            customerGID: "gid://shopify/Customer/123", customerNumericId: "123", staffUserId: nil,
            jti: "0b6d4bd2-7c43-4b0c-9a61-1f3a0f1c2b3d", expiresAt: Fixtures.now + 300, isAdmin: false, secretIndex: 0))
    }

    @Test func acceptsAnonymousBuyerWithoutSubOrJTI() throws {
        // {"dest":"store.myshopify.com","aud":"client-a","exp":now+300,"nbf":now,"iat":now}
        let verdict = try #require(verifier.verify(token: Fixtures.token([("sub", nil), ("jti", nil)])).verdict)
        #expect(verdict.customerGID == nil && verdict.customerNumericId == nil && verdict.jti == nil)
    }

    @Test func acceptsAdminTokenAndKeepsStaffOutOfCustomer() throws {
        // {"iss":"https://store.myshopify.com/admin","dest":"https://store.myshopify.com",…,"sub":"42"}
        let token = Fixtures.token([("iss", .string("https://store.myshopify.com/admin")),
                                    ("dest", .string("https://Store.MyShopify.com")), ("sub", .string("42"))])
        let verdict = try #require(verifier.verify(token: token).verdict)
        #expect(verdict.isAdmin && verdict.staffUserId == "42" && verdict.customerGID == nil)
        #expect(verdict.shopDomain == "store.myshopify.com")
    }

    @Test func adminTokenWithCustomerShapedSubIsNeverACustomer() throws {
        // {"iss":"https://store.myshopify.com/admin",…,"sub":"gid://shopify/Customer/7"}
        let token = Fixtures.token([("iss", .string("https://store.myshopify.com/admin")),
                                    ("sub", .string("gid://shopify/Customer/7"))])
        let verdict = try #require(verifier.verify(token: token).verdict)
        #expect(verdict.customerGID == nil && verdict.staffUserId == nil)
    }

    @Test(arguments: ["gid://shopify/Customer/", "gid://shopify/Customer/12a", "gid://shopify/Customer/1\r\nX: y",
                      "gid://shopify/Customer/123456789012345678901", "gid://shopify/Order/1", " gid://shopify/Customer/1"])
    func oddSubjectGivesNoCustomer(sub: String) throws {
        let verdict = try #require(verifier.verify(token: Fixtures.token([("sub", .string(sub))])).verdict)
        #expect(verdict.customerGID == nil && verdict.customerNumericId == nil)
    }

    @Test func missingToken() {
        #expect(verifier.verify(authorization: "").failure == .missingToken)
        #expect(verifier.verify(token: "").failure == .missingToken)
    }

    @Test func malformedToken() {
        // Two segments only.
        #expect(verifier.verify(token: "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9").failure == .malformedToken)
        // {…,"exp":"1700000300",…}: exp of the wrong type (checked after the signature).
        #expect(verifier.verify(token: Fixtures.token([("exp", .string("1700000300"))])).failure == .malformedToken)
        // {…,"jti":"has space",…}
        #expect(verifier.verify(token: Fixtures.token([("jti", .string("has space"))])).failure == .malformedToken)
        #expect(verifier.verify(token: Fixtures.token([("jti", .string(String(repeating: "j", count: 129)))])).failure == .malformedToken)
        #expect(verifier.verify(token: Fixtures.token([("jti", .string(String(repeating: "j", count: 128)))])).failure == nil)
        // Payload that is not JSON.
        #expect(verifier.verify(token: Fixtures.rawToken(payload: "not json")).failure == .malformedToken)
        // Duplicate exp: two parsers could disagree on which counts.
        #expect(verifier.verify(token: Fixtures.rawToken(
            payload: #"{"dest":"a.myshopify.com","aud":"client-a","exp":1700000300,"exp":1}"#)).failure == .malformedToken)
        // {"typ":"JWS","alg":"HS256"}
        #expect(verifier.verify(token: Fixtures.rawToken(payload: "{}", header: #"{"typ":"JWS","alg":"HS256"}"#)).failure == .malformedToken)
        // "crit" names an extension the verifier cannot honour.
        #expect(verifier.verify(token: Fixtures.rawToken(payload: "{}", header: #"{"alg":"HS256","crit":["b64"]}"#)).failure == .malformedToken)
        // aud of the wrong type.
        #expect(verifier.verify(token: Fixtures.token([("aud", .int(5))])).failure == .malformedToken)
    }

    @Test func unsupportedAlgorithm() {
        // Header {"alg":"none"} with a payload that would otherwise pass.
        let good = Fixtures.token()
        let payload = good.split(separator: ".")[1]
        let none = Base64URL.encode(#"{"alg":"none","typ":"JWT"}"#.utf8) + "." + payload + ".c2ln"
        #expect(verifier.verify(token: none).failure == .unsupportedAlgorithm)
    }

    @Test func invalidSignature() {
        // Good claims for client-a, signed with client-b's secret.
        #expect(verifier.verify(token: Fixtures.token(secret: Fixtures.otherAppSecret)).failure == .invalidSignature)
        // A 31-byte signature fails the length check before any compare.
        let good = Fixtures.token()
        let short = good.split(separator: ".").prefix(2).joined(separator: ".") + "." + Base64URL.encode([UInt8](repeating: 1, count: 31))
        #expect(verifier.verify(token: short).failure == .invalidSignature)
    }

    @Test func rotationAcceptsPreviousSecret() throws {
        let verdict = try #require(verifier.verify(token: Fixtures.token(secret: Fixtures.previousSecret)).verdict)
        #expect(verdict.secretIndex == 1)
    }

    @Test func secondAppIsChosenByAud() throws {
        // {"dest":"shop.example.com","aud":"client-b",…}
        let token = Fixtures.token([("aud", .string("client-b")), ("dest", .string("shop.example.com"))],
                                   secret: Fixtures.otherAppSecret)
        let verdict = try #require(verifier.verify(token: token).verdict)
        #expect(verdict.appIndex == 1 && verdict.clientId == "client-b")
        // Upper-case patterns are lower-cased: "*.Example.ORG".
        let org = Fixtures.token([("aud", .string("client-b")), ("dest", .string("x.example.org"))], secret: Fixtures.otherAppSecret)
        #expect(verifier.verify(token: org).failure == nil)
    }

    @Test func audArrayPicksFirstConfiguredApp() throws {
        // {"aud":["unknown","client-a","client-b"],…}
        let token = Fixtures.token([("aud", .strings(["unknown", "client-a", "client-b"]))])
        #expect(try #require(verifier.verify(token: token).verdict).appIndex == 0)
        #expect(verifier.verify(token: Fixtures.token([("aud", .strings([]))])).failure == .unknownAudience)
    }

    @Test func tokenExpired() {
        // {…,"exp":now-20,"nbf":now-320,"iat":now-320,…}
        let token = Fixtures.token([("exp", .int(Fixtures.now - 20)), ("nbf", .int(Fixtures.now - 320)), ("iat", .int(Fixtures.now - 320))])
        #expect(verifier.verify(token: token).failure == .tokenExpired)
    }

    @Test func tokenNotYetValid() {
        // {…,"exp":now+400,"nbf":now+100,"iat":now,…}
        let token = Fixtures.token([("exp", .int(Fixtures.now + 400)), ("nbf", .int(Fixtures.now + 100))])
        #expect(verifier.verify(token: token).failure == .tokenNotYetValid)
    }

    @Test func tokenIssuedInFuture() {
        // {…,"exp":now+400,"nbf":now,"iat":now+100,…}
        let token = Fixtures.token([("exp", .int(Fixtures.now + 400)), ("iat", .int(Fixtures.now + 100))])
        #expect(verifier.verify(token: token).failure == .tokenIssuedInFuture)
    }

    @Test func tokenLifetimeTooLong() {
        // {…,"exp":now+901,"iat":now,…}
        #expect(verifier.verify(token: Fixtures.token([("exp", .int(Fixtures.now + 901))])).failure == .tokenLifetimeTooLong)
        #expect(verifier.verify(token: Fixtures.token([("exp", .int(Fixtures.now + 900))])).failure == nil)
        // Without iat the lifetime is measured from now.
        #expect(verifier.verify(token: Fixtures.token([("iat", nil), ("exp", .int(Fixtures.now + 901))])).failure == .tokenLifetimeTooLong)
    }

    @Test func unknownAudience() {
        // {…,"aud":"someone-else",…}
        #expect(verifier.verify(token: Fixtures.token([("aud", .string("someone-else"))])).failure == .unknownAudience)
    }

    @Test func issuerMismatch() {
        // {"iss":"https://other.myshopify.com/admin","dest":"store.myshopify.com",…}
        let token = Fixtures.token([("iss", .string("https://other.myshopify.com/admin"))])
        #expect(verifier.verify(token: token).failure == .issuerMismatch)
    }

    @Test func missingClaim() {
        // {"dest":…,"aud":"client-a","nbf":…,"iat":…} without exp
        #expect(verifier.verify(token: Fixtures.token([("exp", nil)])).failure == .missingClaim)
        // without dest
        #expect(verifier.verify(token: Fixtures.token([("dest", nil)])).failure == .missingClaim)
        // without aud (caught before the signature: the app, hence the key, is unknown)
        #expect(verifier.verify(token: Fixtures.token([("aud", nil)])).failure == .missingClaim)
    }

    @Test func shopNotAllowed() {
        // {"dest":"myshopify.com",…}: the bare domain does not match "*.myshopify.com".
        #expect(verifier.verify(token: Fixtures.token([("dest", .string("myshopify.com"))])).failure == .shopNotAllowed)
        // {"dest":"store.example.com",…}
        #expect(verifier.verify(token: Fixtures.token([("dest", .string("store.example.com"))])).failure == .shopNotAllowed)
        // Not a plausible host.
        for dest in ["store.myshopify.com/x", "store .myshopify.com", "store.myshopify.com\r\nX: 1",
                     "ftp://store.myshopify.com", "store.myshopify.com:443", "", "https://"] {
            #expect(verifier.verify(token: Fixtures.token([("dest", .string(dest))])).failure == .shopNotAllowed, "\(dest)")
        }
    }

    @Test func checksRunInContractOrder() {
        // Expired AND wrong shop AND wrong issuer: time comes first.
        let t1 = Fixtures.token([("exp", .int(Fixtures.now - 100)), ("dest", .string("evil.com")), ("iss", .string("x"))])
        #expect(verifier.verify(token: t1).failure == .tokenExpired)
        // Wrong shop AND wrong issuer: shop first.
        let t2 = Fixtures.token([("dest", .string("evil.com")), ("iss", .string("https://x.myshopify.com"))])
        #expect(verifier.verify(token: t2).failure == .shopNotAllowed)
        // Bad signature AND expired: signature first.
        let t3 = Fixtures.token([("exp", .int(Fixtures.now - 100))], secret: Fixtures.otherAppSecret)
        #expect(verifier.verify(token: t3).failure == .invalidSignature)
        // alg none AND unknown aud: header first.
        let payload = Base64URL.encode(#"{"aud":"nobody"}"#.utf8)
        #expect(verifier.verify(token: Base64URL.encode(#"{"alg":"none"}"#.utf8) + "." + payload + ".c2ln").failure == .unsupportedAlgorithm)
    }
}
