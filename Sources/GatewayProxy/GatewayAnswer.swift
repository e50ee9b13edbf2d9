import GatewayAuth
import GatewayCore

/// A response the gateway writes itself (rejections, errors, CORS preflights), with its wire form precomputed.
///
/// Bodies are `{"error":"<code>","message":"<text>"}` as `application/json`; 204 (and other bodiless statuses)
/// carry neither body nor `Content-Type`/`Content-Length`.
public struct GatewayAnswer: Sendable {
    public let status: Int
    /// The contract code (`missing_token`, `no_route`...); empty for a CORS preflight.
    public let code: String
    public let message: String
    /// Fields specific to this answer (`WWW-Authenticate`, CORS preflight fields...).
    public let headers: [(String, String)]
    /// The JSON body bytes (empty for bodiless statuses).
    public let body: [UInt8]
    /// Status line, `Content-Type`, `Content-Length` and `headers`, serialized once.
    private let head: [UInt8]

    public init(status: Int, code: String, message: String, headers: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        let bodiless = GatewayAnswer.isBodiless(status)
        body = bodiless ? [] : Array("{\"error\":\"\(code.jsonEscaped)\",\"message\":\"\(message.jsonEscaped)\"}".utf8)
        var h: [UInt8] = []
        h.reserveCapacity(160)
        h.append(contentsOf: "HTTP/1.1 \(status) \(HTTPStatus.reason(status))\r\n".utf8)
        if !bodiless {
            h.append(contentsOf: "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n".utf8)
        }
        for (name, value) in headers { GatewayAnswer.appendField(&h, name, value) }
        head = h
    }

    /// A copy with more answer-specific fields (kept in the precomputed head).
    public func adding(headers more: [(String, String)]) -> GatewayAnswer {
        GatewayAnswer(status: status, code: code, message: message, headers: headers + more)
    }

    /// The answer for an auth failure; `hadToken` adds `X-Shopify-Retry-Invalid-Session-Request: 1` to 401s.
    public static func failure(_ f: AuthFailure, hadToken: Bool) -> GatewayAnswer {
        let pair = authAnswers[f] ?? makeAuthAnswers(f)
        return hadToken ? pair.withToken : pair.withoutToken
    }

    /// The answer for a gateway error code.
    public static func error(_ code: GatewayErrorCode) -> GatewayAnswer {
        errorAnswers[code] ?? GatewayAnswer(status: code.status, code: code.rawValue, message: code.message)
    }

    /// The complete HTTP/1.1 response bytes: head (with `X-Request-Id`, `extraHeaders`, `Connection: close` when
    /// not keeping the connection) and the body unless `headOnly` (a HEAD request: `Content-Length` stays).
    public func serializeHTTP1(requestId: String, extraHeaders: [(String, String)] = [], keepAlive: Bool,
                               headOnly: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(head.count + requestId.utf8.count + 64 + (headOnly ? 0 : body.count))
        out.append(contentsOf: head)
        GatewayAnswer.appendField(&out, "X-Request-Id", requestId)
        for (name, value) in extraHeaders { GatewayAnswer.appendField(&out, name, value) }
        if !keepAlive { out.append(contentsOf: GatewayAnswer.connectionClose) }
        out.append(0x0D); out.append(0x0A)
        if !headOnly { out.append(contentsOf: body) }
        return out
    }

    /// The response fields for an HTTP/2 HEADERS frame (lower-case names, no connection fields).
    public func http2Fields(requestId: String, extraHeaders: [(String, String)] = []) -> [(String, String)] {
        var fields: [(String, String)] = []
        fields.reserveCapacity(headers.count + extraHeaders.count + 3)
        if !GatewayAnswer.isBodiless(status) {
            fields.append(("content-type", "application/json"))
            fields.append(("content-length", String(body.count)))
        }
        for (name, value) in headers { fields.append((name.lowercased(), value)) }
        fields.append(("x-request-id", requestId))
        for (name, value) in extraHeaders { fields.append((name.lowercased(), value)) }
        return fields
    }

    private static let connectionClose: [UInt8] = Array("Connection: close\r\n".utf8)

    private static func isBodiless(_ status: Int) -> Bool {
        status == 204 || status == 304 || (status >= 100 && status < 200)
    }

    private static func appendField(_ out: inout [UInt8], _ name: String, _ value: String) {
        out.append(contentsOf: name.utf8)
        out.append(0x3A); out.append(0x20)
        out.append(contentsOf: value.utf8)
        out.append(0x0D); out.append(0x0A)
    }

    private static let errorAnswers: [GatewayErrorCode: GatewayAnswer] = {
        var table: [GatewayErrorCode: GatewayAnswer] = [:]
        for code in GatewayErrorCode.allCases {
            table[code] = GatewayAnswer(status: code.status, code: code.rawValue, message: code.message)
        }
        return table
    }()

    private static let authAnswers: [AuthFailure: (withoutToken: GatewayAnswer, withToken: GatewayAnswer)] = {
        var table: [AuthFailure: (withoutToken: GatewayAnswer, withToken: GatewayAnswer)] = [:]
        for failure in AuthFailure.allCases { table[failure] = makeAuthAnswers(failure) }
        return table
    }()

    private static func makeAuthAnswers(_ f: AuthFailure) -> (withoutToken: GatewayAnswer, withToken: GatewayAnswer) {
        var headers: [(String, String)] = []
        if f.status == 401 {
            let challenge = f == .missingToken
                ? "Bearer realm=\"session-gateway\""
                : "Bearer error=\"invalid_token\", error_description=\"\(f.rawValue)\""
            headers.append(("WWW-Authenticate", challenge))
        }
        let plain = GatewayAnswer(status: f.status, code: f.rawValue, message: f.message, headers: headers)
        guard f.status == 401 else { return (plain, plain) }
        let retry = GatewayAnswer(status: f.status, code: f.rawValue, message: f.message,
                                  headers: headers + [("X-Shopify-Retry-Invalid-Session-Request", "1")])
        return (plain, retry)
    }
}
