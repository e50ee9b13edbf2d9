import GatewayAuth
import Testing
@testable import GatewayProxy

/// Splits serialized HTTP/1.1 bytes into status line, fields and body for assertions.
struct ParsedResponse {
    var statusLine: String
    var fields: [(String, String)]
    var body: String

    init(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let headLines = parts[0].components(separatedBy: "\r\n")
        statusLine = headLines[0]
        fields = headLines.dropFirst().map { line in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            return (String(line[..<colon]), String(line[line.index(after: colon)...].dropFirst()))
        }
        body = parts.dropFirst().joined(separator: "\r\n\r\n")
    }

    func values(_ name: String) -> [String] {
        fields.filter { $0.0.lowercased() == name.lowercased() }.map { $0.1 }
    }

    func value(_ name: String) -> String? { values(name).first }
}

@Suite struct GatewayAnswerTests {
    @Test(arguments: GatewayErrorCode.allCases)
    func errorAnswerWireForm(_ code: GatewayErrorCode) {
        let answer = GatewayAnswer.error(code)
        #expect(answer.status == code.status)
        let r = ParsedResponse(answer.serializeHTTP1(requestId: "rid-1", extraHeaders: [], keepAlive: true, headOnly: false))
        #expect(r.statusLine.hasPrefix("HTTP/1.1 \(code.status) "))
        #expect(r.value("Content-Type") == "application/json")
        #expect(r.value("X-Request-Id") == "rid-1")
        #expect(r.body == "{\"error\":\"\(code.rawValue)\",\"message\":\"\(code.message)\"}")
        #expect(r.value("Content-Length") == String(r.body.utf8.count))
        #expect(r.value("Connection") == nil)
        #expect(r.value("WWW-Authenticate") == nil)
    }

    @Test func errorStatusesMatchTheContract() {
        let expected: [GatewayErrorCode: Int] = [
            .badRequest: 400, .noRoute: 404, .requestTimeout: 408, .bodyTooLarge: 413, .uriTooLong: 414,
            .headersTooLarge: 431, .notImplemented: 501, .upstreamUnavailable: 502, .badUpstreamResponse: 502,
            .replayStoreUnavailable: 503, .replayStoreFull: 503, .draining: 503, .upstreamBusy: 503, .upstreamTimeout: 504,
        ]
        #expect(Set(expected.keys) == Set(GatewayErrorCode.allCases))
        for (code, status) in expected { #expect(code.status == status, "\(code)") }
    }

    /// `503 upstream_busy` (no upstream connection within `queue_timeout`), as the contract's answers look.
    @Test func upstreamBusyWireForm() {
        let answer = GatewayAnswer.error(.upstreamBusy)
        #expect(answer.status == 503 && answer.code == "upstream_busy")
        let r = ParsedResponse(answer.serializeHTTP1(requestId: "rid-9", extraHeaders: [("Access-Control-Allow-Origin", "*")],
                                                     keepAlive: true))
        #expect(r.statusLine == "HTTP/1.1 503 Service Unavailable")
        #expect(r.value("Content-Type") == "application/json")
        #expect(r.value("X-Request-Id") == "rid-9")
        #expect(r.value("Access-Control-Allow-Origin") == "*")
        #expect(r.body == #"{"error":"upstream_busy","message":"The upstream has no free connection; try again shortly."}"#)
        #expect(r.value("Content-Length") == String(r.body.utf8.count))
        #expect(r.value("WWW-Authenticate") == nil)
        let fields = answer.http2Fields(requestId: "rid-9")
        #expect(fields.contains { $0 == ("content-type", "application/json") })
        #expect(fields.contains { $0 == ("x-request-id", "rid-9") })
    }

    @Test(arguments: AuthFailure.allCases)
    func authAnswerWireForm(_ failure: AuthFailure) {
        for hadToken in [false, true] {
            let answer = GatewayAnswer.failure(failure, hadToken: hadToken)
            let r = ParsedResponse(answer.serializeHTTP1(requestId: "r", extraHeaders: [], keepAlive: true, headOnly: false))
            #expect(r.statusLine.hasPrefix("HTTP/1.1 \(failure.status) "))
            #expect(r.body == "{\"error\":\"\(failure.rawValue)\",\"message\":\"\(failure.message)\"}")
            if failure.status == 401 {
                let challenge = failure == .missingToken
                    ? "Bearer realm=\"session-gateway\""
                    : "Bearer error=\"invalid_token\", error_description=\"\(failure.rawValue)\""
                #expect(r.values("WWW-Authenticate") == [challenge])
                #expect(r.values("X-Shopify-Retry-Invalid-Session-Request") == (hadToken ? ["1"] : []))
            } else {
                #expect(failure.status == 403)
                #expect(r.value("WWW-Authenticate") == nil)
                #expect(r.value("X-Shopify-Retry-Invalid-Session-Request") == nil)
            }
        }
    }

    @Test func authStatusesMatchTheContract() {
        for failure in AuthFailure.allCases {
            let forbidden = failure == .shopNotAllowed || failure == .customerRequired
            #expect(failure.status == (forbidden ? 403 : 401))
        }
    }

    @Test func closeHeadOnlyAndExtras() {
        let answer = GatewayAnswer.error(.noRoute)
        let bytes = answer.serializeHTTP1(requestId: "x", extraHeaders: [("Access-Control-Allow-Origin", "*")],
                                          keepAlive: false, headOnly: true)
        let r = ParsedResponse(bytes)
        #expect(r.value("Connection") == "close")
        #expect(r.value("Access-Control-Allow-Origin") == "*")
        #expect(r.body.isEmpty)
        #expect(r.value("Content-Length") == String(answer.body.count))
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("\r\n\r\n"))
    }

    @Test func bodilessStatusHasNoBodyFields() {
        let answer = GatewayAnswer(status: 204, code: "", message: "", headers: [("Vary", "Origin")])
        #expect(answer.body.isEmpty)
        let r = ParsedResponse(answer.serializeHTTP1(requestId: "x", extraHeaders: [], keepAlive: true, headOnly: false))
        #expect(r.statusLine == "HTTP/1.1 204 No Content")
        #expect(r.value("Content-Length") == nil)
        #expect(r.value("Content-Type") == nil)
        #expect(r.value("Vary") == "Origin")
    }

    @Test func http2FieldsAreLowerCase() {
        let fields = GatewayAnswer.failure(.tokenExpired, hadToken: true).http2Fields(requestId: "id")
        #expect(fields.allSatisfy { $0.0 == $0.0.lowercased() })
        #expect(fields.contains { $0 == ("x-request-id", "id") })
        #expect(fields.contains { $0 == ("x-shopify-retry-invalid-session-request", "1") })
        #expect(!fields.contains { $0.0 == "connection" })
    }

    @Test func messagesAreEscaped() {
        let answer = GatewayAnswer(status: 400, code: "x\"y", message: "a\\b\nc")
        #expect(String(decoding: answer.body, as: UTF8.self) == #"{"error":"x\"y","message":"a\\b\nc"}"#)
    }
}
