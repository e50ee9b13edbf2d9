import Foundation
import GatewayAuth
import GatewayCore
import Testing

/// Tokens for the integration tests, signed with `TestStack.secret` unless told otherwise.
enum Tok {
    static var now: Int64 { Int64(Date().timeIntervalSince1970) }
    static var secret: [UInt8] { Array(TestStack.secret.utf8) }

    /// A valid customer-account token for `shop` (a fresh `jti` each call).
    static func valid(shop: String = "a.myshopify.com", customer: String? = "gid://shopify/Customer/42",
                      clientId: String = TestStack.clientId, iat: Int64? = nil, ttl: Int64 = 300,
                      jti: String = UUID().uuidString, issuer: String? = nil, secret: [UInt8]? = nil) -> String {
        TokenMinter.mint(shop: shop, clientId: clientId, issuedAt: iat ?? now, ttl: ttl, jti: jti, subject: customer,
                         issuer: issuer, secret: secret ?? self.secret)
    }

    static func claims(_ c: [(String, ClaimValue)]) -> String { TokenMinter.mint(claims: c, secret: secret) }

    /// The signature segment of a token (must never show up in a log).
    static func signature(_ token: String) -> String { String(token.split(separator: ".").last ?? "") }
}

/// A complete request in wire form with sensible defaults.
func httpRequest(_ method: String = "GET", _ target: String, token: String? = nil, headers: [(String, String)] = [],
                 body: [UInt8]? = nil, host: String = "gw.test") -> [UInt8] {
    var text = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\n"
    if let token { text += "Authorization: Bearer \(token)\r\n" }
    for (n, v) in headers { text += "\(n): \(v)\r\n" }
    if let body { text += "Content-Length: \(body.count)\r\n" }
    text += "\r\n"
    return Array(text.utf8) + (body ?? [])
}

extension TestStack {
    /// Sends one request on a fresh connection and reads one response.
    func send(_ method: String = "GET", _ target: String, token: String? = nil, headers: [(String, String)] = [],
              body: [UInt8]? = nil) throws -> HTTPTestResponse {
        let c = try RawClient(port: port)
        c.send(httpRequest(method, target, token: token, headers: headers, body: body))
        guard let r = c.readResponse() else { throw TestFailure("no response to \(method) \(target)") }
        return r
    }
}

/// A failure with a message, for `throw` in tests.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// SHA-256 hex of bytes, via GatewayAuth's hasher (the same one the echo backend uses).
func sha256Hex(_ bytes: [UInt8]) -> String {
    let h = SHA256Hasher()
    bytes.withUnsafeBytes { h.update($0) }
    return h.finalizeHex()
}

/// Deterministic pseudo-random bytes (xorshift) so mismatches are not hidden by repeating patterns.
func patternBytes(_ n: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var x = seed
    var out = [UInt8](repeating: 0, count: n)
    for i in 0..<n {
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
        out[i] = UInt8(truncatingIfNeeded: x)
    }
    return out
}

/// Checks the shape every answer of the gateway's own has; returns the parsed JSON.
@discardableResult
func expectAnswer(_ r: HTTPTestResponse?, status: Int, code: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String: Any]? {
    guard let r else {
        Issue.record("no response; expected \(status) \(code)", sourceLocation: sourceLocation)
        return nil
    }
    #expect(r.status == status, "status for \(code): \(r.bodyText)", sourceLocation: sourceLocation)
    #expect(r.header("Content-Type") == "application/json", sourceLocation: sourceLocation)
    #expect(!(r.header("X-Request-Id") ?? "").isEmpty, "X-Request-Id on \(code)", sourceLocation: sourceLocation)
    let json = r.json
    #expect(json?["error"] as? String == code, "body: \(r.bodyText)", sourceLocation: sourceLocation)
    let message = json?["message"] as? String ?? ""
    #expect(message.count > 0, "message in \(r.bodyText)", sourceLocation: sourceLocation)
    return json
}
