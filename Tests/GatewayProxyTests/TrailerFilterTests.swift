import GatewayConfig
import GatewayCore
import Testing
@testable import GatewayProxy

@Suite struct TrailerFilterTests {
    @Test func framingRoutingAuthAndIdentityFieldsAreDroppedOthersKeptInOrder() {
        let t = HTTPHeaders([("X-Checksum", "abc"), ("Content-Length", "3"), ("transfer-encoding", "chunked"), ("Host", "evil"),
                             ("Authorization", "Bearer x"), ("WWW-Authenticate", "Basic"), ("Proxy-Authenticate", "Basic"),
                             ("Forwarded", "for=1.2.3.4"), ("Set-Cookie", "a=b"), ("X-Shop-Domain", "evil.myshopify.com"),
                             ("x_customer_id", "1"), ("X-STAFF-USER-ID", "9"), ("Server-Timing", "db;dur=1")])
        let out = TrailerFilter.filtered(t, identity: IdentityHeadersConfig())
        #expect((0..<out.count).map { out.name($0) } == ["X-Checksum", "Server-Timing"])
    }

    @Test func customIdentityHeaderNamesAreDroppedToo() {
        var identity = IdentityHeadersConfig()
        identity.shopDomain = "X-Tenant"
        let out = TrailerFilter.filtered(HTTPHeaders([("x-tenant", "evil"), ("X_Tenant", "evil"), ("X-Shop-Domain", "kept")]),
                                         identity: identity)
        #expect((0..<out.count).map { out.name($0) } == ["X-Shop-Domain"])
    }

    @Test func clientIdHeaderIsDroppedInEverySpellingOnceConfigured() {
        var identity = IdentityHeadersConfig()
        identity.clientId = "X-Shopify-Client-Id"
        let t = HTTPHeaders([("x-shopify-client-id", "evil"), ("X_Shopify_Client_Id", "evil"), ("X-SHOPIFY-CLIENT-ID", "evil"),
                             ("X-Trace", "kept")])
        let out = TrailerFilter.filtered(t, identity: identity)
        #expect((0..<out.count).map { out.name($0) } == ["X-Trace"])
        // A name configured with `_` is folded like the fields, so its `-` spelling goes too.
        identity.clientId = "X_App_Id"
        let u = TrailerFilter.filtered(HTTPHeaders([("x-app-id", "evil"), ("X_APP_ID", "evil"), ("X-Kept", "1")]), identity: identity)
        #expect((0..<u.count).map { u.name($0) } == ["X-Kept"])
    }
}
