import GatewayAuth
import GatewayConfig
import GatewayCore
import GatewayHTTP1
import Testing
@testable import FuzzSupport
@testable import GatewayProxy

/// The checks find what they are meant to find: a corpus that passes them only means something if a broken message,
/// path or token does not.
@Suite struct FuzzCheckTeethTests {
    static func head(_ text: String) throws -> HTTPRequestHead {
        var parser = HTTP1RequestParser(limits: HTTP1Limits())
        var bytes = Array(text.utf8)
        let step = try bytes.withUnsafeMutableBytes { try parser.parse(UnsafeRawBufferPointer($0)) }
        guard case .head(let h)? = step.event else { throw InvariantViolation("test", "no head") }
        return h
    }

    @Test func theGateForwardsAPlainRequest() throws {
        let h = try Self.head("GET /a/../b?x HTTP/1.1\r\nHost: a\r\n\r\n")
        guard case .forward(let plan) = HTTP1RequestFuzz.gate.evaluate(h, client: ClientInfo(remoteAddress: "192.0.2.7", isTLS: false)) else {
            Issue.record("not forwarded")
            return
        }
        #expect(plan.head.target == "/b?x")
    }

    @Test func aForwardedBodyShorterThanItsFramingIsCaught() throws {
        var m = HTTP1RequestFuzz.Message(head: try Self.head("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"))
        m.body = [Array("abc".utf8)]
        m.ended = true
        #expect(throws: InvariantViolation.self) { try HTTP1RequestFuzz.forward(m) }
        m.body = [Array("abcde".utf8)]
        #expect(throws: Never.self) { try HTTP1RequestFuzz.forward(m) }
    }

    @Test func aDotSegmentOrAnEscapedSlashInANormalizedPathIsCaught() {
        for path in ["/a/../b", "/a/./b", "/a/..", "/a%2Fb", "/a%2eb", "/a%3fb", "/.;x", "/a b"] {
            #expect(throws: InvariantViolation.self, "\(path)") { try PathFuzz.checkPath(path, input: path) }
        }
        #expect(throws: Never.self) { try PathFuzz.checkPath("/a//b/%3F/...", input: "") }
    }

    @Test func anAcceptedTokenPassesAndAWrongVerdictIsCaught() throws {
        let token = TokenMinter.mint(shop: "fuzz-shop.myshopify.com", clientId: TokenFuzz.clientId, issuedAt: TokenFuzz.now,
                                     jti: "j", subject: "gid://shopify/Customer/7", secret: TokenFuzz.secrets[1])
        let authorization = Array(("Bearer " + token).utf8)
        guard case .success(let v) = TokenFuzz.verify(authorization) else {
            Issue.record("the minted token was refused")
            return
        }
        #expect(v.secretIndex == 1)
        #expect(throws: Never.self) { try TokenFuzz.checkVerify(authorization) }
        let forged = TokenVerdict(clientId: v.clientId, appIndex: v.appIndex, shopDomain: v.shopDomain, customerGID: v.customerGID,
                                  customerNumericId: v.customerNumericId, staffUserId: nil, jti: v.jti, expiresAt: v.expiresAt,
                                  isAdmin: false, secretIndex: 0)
        #expect(throws: InvariantViolation.self) { try TokenFuzz.checkAccepted(authorization, verdict: forged) }
    }

    @Test func aPrintedCanaryIsCaught() {
        let yaml = "apps:\n  - client_id: a\n    secrets: [{env: SHOPIFY_API_SECRET}]\n"
        #expect(ConfigFuzz.load(yaml).config?.apps.first?.secrets.first?.bytes == Array(ConfigFuzz.envCanary.utf8))
        #expect(throws: InvariantViolation.self) {
            try ConfigFuzz.checkSecret(Secret(source: .file("x"), bytes: Array(ConfigFuzz.envCanary.utf8)))
        }
    }
}
