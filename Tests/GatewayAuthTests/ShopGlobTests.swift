import Testing
@testable import GatewayAuth

@Suite struct ShopGlobTests {
    private func matches(_ pattern: String, _ host: String) -> Bool {
        ShopGlob(pattern).matches(host)
    }

    @Test func wildcardSubdomain() {
        #expect(matches("*.myshopify.com", "store.myshopify.com"))
        #expect(matches("*.myshopify.com", "a.b.myshopify.com"))      // `*` runs across dots
        #expect(!matches("*.myshopify.com", "myshopify.com"))         // the bare domain does not match
        #expect(!matches("*.myshopify.com", "store.myshopify.com.evil.com"))
        #expect(!matches("*.myshopify.com", "storemyshopify.com"))
    }

    @Test func literalAndInnerWildcards() {
        #expect(matches("shop.example.com", "shop.example.com"))
        #expect(!matches("shop.example.com", "shop.example.co"))
        #expect(matches("shop-*.example.com", "shop-eu.example.com"))
        #expect(matches("shop-*.example.com", "shop-.example.com"))
        #expect(matches("*", "anything.at.all"))
        #expect(matches("a*b*c", "aXXbYYc") && !matches("a*b*c", "aXXbYY"))
        #expect(matches("SHOP.Example.com", "shop.example.com"))
    }

    @Test func plausibleHosts() {
        #expect(ClaimRules.shopHost(fromDest: "HTTPS://Store.MyShopify.com") == "store.myshopify.com")
        #expect(ClaimRules.shopHost(fromDest: "http://store.myshopify.com") == "store.myshopify.com")
        for bad in ["", "a..b", ".a", "a.", "a b", "a/b", "a\u{0}b", "a_b.com", "a:1", "user@a.com", "é.com"] {
            #expect(ClaimRules.shopHost(fromDest: bad) == nil, "\(bad)")
        }
        #expect(ClaimRules.shopHost(fromDest: "store.myshopify.com") == "store.myshopify.com")
        #expect(ClaimRules.issuer("https://Store.myshopify.com/admin", matchesHost: "store.myshopify.com"))
        #expect(ClaimRules.issuer("store.myshopify.com", matchesHost: "store.myshopify.com"))
        #expect(!ClaimRules.issuer("https://store.myshopify.com.evil/admin", matchesHost: "store.myshopify.com"))
        #expect(!ClaimRules.issuer("https://store.myshop/admin", matchesHost: "store.myshopify.com"))
        #expect(!ClaimRules.issuer("", matchesHost: "store.myshopify.com"))
    }
}
