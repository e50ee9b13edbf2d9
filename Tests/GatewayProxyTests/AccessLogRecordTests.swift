import Foundation
import Testing
@testable import GatewayProxy

@Suite struct AccessLogRecordTests {
    private func record(path: String = "/a", shop: String? = "s.myshopify.com") -> AccessLogRecord {
        AccessLogRecord(time: 1_700_000_000.123, requestId: "rid", client: "203.0.113.7", method: "GET", path: path,
                        route: "/", status: 200, auth: "accepted", shop: shop, upstream: "127.0.0.1:3000",
                        durationMs: 1.2345, upstreamMs: nil, bytesIn: 10, bytesOut: 20, protocol: "HTTP/1.1")
    }

    @Test func isOneValidJSONObject() throws {
        let line = record().jsonLine()
        #expect(!line.contains("\n"))
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2023-11-14T22:13:20.123Z")
        #expect(object["request_id"] as? String == "rid")
        #expect(object["status"] as? Int == 200)
        #expect(object["duration_ms"] as? Double == 1.235 || object["duration_ms"] as? Double == 1.234)
        #expect(object["upstream_ms"] is NSNull)
        #expect(object["shop"] as? String == "s.myshopify.com")
        #expect(object["protocol"] as? String == "HTTP/1.1")
    }

    /// `trace_id` is null without a valid `traceparent`, like the other optional fields.
    @Test func traceIdIsNullUnlessSet() throws {
        let none = try #require(JSONSerialization.jsonObject(with: Data(record().jsonLine().utf8)) as? [String: Any])
        #expect(none["trace_id"] is NSNull)
        var traced = record()
        traced.traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
        let object = try #require(JSONSerialization.jsonObject(with: Data(traced.jsonLine().utf8)) as? [String: Any])
        #expect(object["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(traced.jsonLine().hasSuffix(#","protocol":"HTTP/1.1","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#))
    }

    @Test func escapesHostileStrings() throws {
        let line = record(path: "/a\"b\\c\n\u{1}d", shop: nil).jsonLine()
        #expect(!line.contains("\n"))
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["path"] as? String == "/a\"b\\c\n\u{1}d")
        #expect(object["shop"] is NSNull)
    }

    @Test func formatsDatesAcrossEras() {
        var out: [UInt8] = []
        AccessLogRecord.appendISO8601(&out, 0)
        #expect(String(decoding: out, as: UTF8.self) == "1970-01-01T00:00:00.000Z")
        out = []
        AccessLogRecord.appendISO8601(&out, 951_782_400.5)  // leap day 2000
        #expect(String(decoding: out, as: UTF8.self) == "2000-02-29T00:00:00.500Z")
        #expect(AccessLogRecord.milliseconds(0.0004) == "0.000")
        #expect(AccessLogRecord.milliseconds(12.5) == "12.500")
    }

    @Test func writesNumbersWithoutStrings() {
        #expect(AccessLogRecord.milliseconds(0) == "0.000")
        #expect(AccessLogRecord.milliseconds(1.0105) == "1.011" || AccessLogRecord.milliseconds(1.0105) == "1.010")
        #expect(AccessLogRecord.milliseconds(30_000.25) == "30000.250")
        #expect(AccessLogRecord.milliseconds(-1) == "0")
        #expect(AccessLogRecord.milliseconds(.nan) == "0")
        #expect(AccessLogRecord.milliseconds(.infinity) == "0")
    }

    @Test func batchBytesAreTheLine() {
        var batch = Array("prior\n".utf8)
        record().appendJSON(to: &batch)
        #expect(String(decoding: batch, as: UTF8.self) == "prior\n" + record().jsonLine())
        let object = try? JSONSerialization.jsonObject(with: Data(record().jsonLine().utf8)) as? [String: Any]
        #expect(object?["bytes_in"] as? Int == 10)
        #expect(object?["bytes_out"] as? Int == 20)
        #expect(object?["duration_ms"] as? Double == 1.235 || object?["duration_ms"] as? Double == 1.234)
    }
}
