import GatewayAuth
import Testing

@Suite struct TokenVerdictTests {
    static func verdict(shop: String = "store.myshopify.com", gid: String? = "gid://shopify/Customer/123",
                        digits: String? = "123", staff: String? = nil) -> TokenVerdict {
        TokenVerdict(clientId: "app-1", appIndex: 0, shopDomain: shop, customerGID: gid, customerNumericId: digits,
                     staffUserId: staff, jti: "j", expiresAt: 1_000, isAdmin: staff != nil, secretIndex: 0)
    }

    @Test func identityOfVisibleASCIIIsFieldSafe() {
        #expect(Self.verdict().identityIsFieldSafe)
        #expect(Self.verdict(gid: nil, digits: nil, staff: "42").identityIsFieldSafe)
    }

    @Test("a claim bound for a header with a control, a space, DEL or non-ASCII byte, or an empty shop, is not field-safe",
          arguments: [
              verdict(shop: ""), verdict(shop: "store.myshopify.com\r\nX-Admin: 1"), verdict(shop: "a b"),
              verdict(gid: "gid://shopify/Customer/1\u{7F}"), verdict(digits: "12\t3"), verdict(staff: "4\u{0}2"),
              verdict(gid: "gid://shopify/Customer/١٢٣"),
          ])
    func unsafeIdentity(_ v: TokenVerdict) {
        #expect(!v.identityIsFieldSafe)
    }
}
