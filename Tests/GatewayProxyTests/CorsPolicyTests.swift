import GatewayConfig
import GatewayCore
import Testing
@testable import GatewayProxy

@Suite struct CorsPolicyTests {
    private func preflight(origin: String? = "https://extensions.shopifycdn.com",
                           method: String = "OPTIONS", requestMethod: Bool = true) -> HTTPRequestHead {
        var fields: [(String, String)] = [("Host", "gw")]
        if let origin { fields.append(("Origin", origin)) }
        if requestMethod { fields.append(("Access-Control-Request-Method", "POST")) }
        return HTTPRequestHead(method: method, target: "/x", version: .http1_1, headers: HTTPHeaders(fields))
    }

    @Test func recognizesPreflights() {
        let cors = CorsPolicy(CorsConfig())
        #expect(cors.isPreflight(preflight()))
        #expect(!cors.isPreflight(preflight(origin: nil)))
        #expect(!cors.isPreflight(preflight(requestMethod: false)))
        #expect(!cors.isPreflight(preflight(method: "GET")))
        var off = CorsConfig()
        off.enabled = false
        #expect(!CorsPolicy(off).isPreflight(preflight()))
    }

    @Test func wildcardPreflightAnswer() {
        let answer = CorsPolicy(CorsConfig()).preflightAnswer(for: preflight())
        #expect(answer.status == 204)
        let h = Dictionary(uniqueKeysWithValues: answer.headers)
        #expect(h["Access-Control-Allow-Origin"] == "*")
        #expect(h["Access-Control-Allow-Methods"] == CorsPolicy.defaultAllowMethods)
        #expect(h["Access-Control-Allow-Headers"] == "Authorization, Content-Type")
        #expect(h["Access-Control-Max-Age"] == "7200")
        #expect(h["Vary"] == "Origin")
    }

    @Test func nullOriginWorksWithWildcard() {
        let cors = CorsPolicy(CorsConfig())
        #expect(cors.allowOriginValue("null") == "*")
        #expect(cors.responseHeaders(origin: "null").first?.1 == "*")
    }

    @Test func listedOriginsAreEchoed() {
        var config = CorsConfig()
        config.allowOrigins = ["https://a.example", "null"]
        let cors = CorsPolicy(config)
        #expect(cors.allowOriginValue("https://a.example") == "https://a.example")
        #expect(cors.allowOriginValue("HTTPS://A.EXAMPLE") == "HTTPS://A.EXAMPLE")
        #expect(cors.allowOriginValue("null") == "null")
        #expect(cors.allowOriginValue("https://b.example") == nil)
        #expect(cors.allowOriginValue(nil) == nil)
    }

    @Test func unlistedOriginPreflightGetsNoAllowFields() {
        var config = CorsConfig()
        config.allowOrigins = ["https://a.example"]
        let answer = CorsPolicy(config).preflightAnswer(for: preflight(origin: "https://evil.example"))
        #expect(answer.status == 204)
        #expect(!answer.headers.contains { $0.0.hasPrefix("Access-Control-") })
        #expect(answer.headers.contains { $0 == ("Vary", "Origin") })
    }

    @Test func responseHeadersExposeRetryHeader() {
        let cors = CorsPolicy(CorsConfig())
        let h = Dictionary(uniqueKeysWithValues: cors.responseHeaders(origin: "https://x.example"))
        #expect(h["Access-Control-Allow-Origin"] == "*")
        #expect(h["Access-Control-Expose-Headers"] == "X-Request-Id, X-Shopify-Retry-Invalid-Session-Request")
        #expect(h["Vary"] == "Origin")
        #expect(cors.responseHeaders(origin: nil).isEmpty)
        var off = CorsConfig()
        off.enabled = false
        #expect(CorsPolicy(off).responseHeaders(origin: "https://x.example").isEmpty)
    }
}
