import Foundation
import Testing

/// W3C Trace Context through the gateway: `traceparent` and `tracestate` reach the upstream unchanged, and a valid
/// `traceparent`'s trace id is the access log's `trace_id`, over HTTP/1.1 and HTTP/2.
@Suite(.serialized) struct TraceContextTests {
    static let traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let traceparent = "00-\(traceId)-00f067aa0ba902b7-01"
    static let tracestate = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"

    /// The access-log lines for `path` once the loops flushed them.
    private func lines(_ stack: TestStack, path: String) -> [String] {
        stack.gateway.flushLogs()
        return stack.log.all.filter { $0.contains(#""path":"\#(path)""#) }
    }

    @Test func http1ForwardsBothFieldsUnchangedAndLogsTheTraceId() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let r = try stack.send("GET", "/public/traced", headers: [("traceparent", Self.traceparent), ("tracestate", Self.tracestate)])
        #expect(r.status == 200)
        #expect(r.echoedHeaders["traceparent"] == Self.traceparent)
        #expect(r.echoedHeaders["tracestate"] == Self.tracestate)
        let logged = lines(stack, path: "/public/traced")
        #expect(logged.count == 1 && logged[0].contains(#""trace_id":"\#(Self.traceId)""#), "\(logged)")
    }

    @Test func anInvalidTraceparentIsForwardedAsItCameButNotLogged() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let upper = Self.traceparent.uppercased()
        let r = try stack.send("GET", "/public/untraced", headers: [("traceparent", upper), ("tracestate", Self.tracestate)])
        #expect(r.status == 200)
        #expect(r.echoedHeaders["traceparent"] == upper)
        #expect(r.echoedHeaders["tracestate"] == Self.tracestate)
        let logged = lines(stack, path: "/public/untraced")
        #expect(logged.count == 1 && logged[0].contains(#""trace_id":null"#), "\(logged)")
        _ = try stack.send("GET", "/public/plain")
        let plain = lines(stack, path: "/public/plain")
        #expect(plain.count == 1 && plain[0].contains(#""trace_id":null"#), "\(plain)")
    }

    @Test func theGatewaysOwnAnswerIsLoggedWithTheTraceIdToo() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let r = try stack.send("GET", "/private/x", headers: [("traceparent", Self.traceparent)])
        #expect(r.status == 401)
        let logged = lines(stack, path: "/private/x")
        #expect(logged.count == 1 && logged[0].contains(#""trace_id":"\#(Self.traceId)""#), "\(logged)")
    }

    @Test func http2ForwardsBothFieldsUnchangedAndLogsTheTraceId() throws {
        let stack = try TestStack()
        defer { stack.stop() }
        let r = try runProcess(tool("curl"), ["-s", "--http2-prior-knowledge", "-H", "traceparent: \(Self.traceparent)",
                                              "-H", "tracestate: \(Self.tracestate)", "-w", "\n%{http_version} %{http_code}",
                                              "http://127.0.0.1:\(stack.port)/public/h2traced"])
        #expect(r.stdout.hasSuffix("\n2 200"), "\(r.stdout)")
        #expect(r.stdout.contains(#""traceparent":"\#(Self.traceparent)""#), "\(r.stdout)")
        #expect(r.stdout.contains(#""tracestate":"\#(Self.tracestate)""#), "\(r.stdout)")
        let logged = lines(stack, path: "/public/h2traced")
        #expect(logged.count == 1, "\(logged)")
        #expect(logged.first?.contains(#""trace_id":"\#(Self.traceId)""#) == true, "\(logged)")
        #expect(logged.first?.contains(#""protocol":"HTTP/2""#) == true, "\(logged)")
    }
}
