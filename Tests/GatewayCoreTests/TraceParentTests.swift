import GatewayCore
import Testing

private let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
private let parent = "00f067aa0ba902b7"

/// `traceparent` values as the W3C Trace Context spec reads them: what is a trace id for the access log, what is not.
@Suite struct TraceParentTests {
    static let valid = "00-\(trace)-\(parent)-01"

    @Test func aVersion00ValueGivesItsFields() throws {
        let t = try #require(TraceParent(Self.valid))
        #expect(t.version == 0)
        #expect(t.traceId == trace)
        #expect(t.parentId == parent)
        #expect(t.flags == 1)
        #expect(TraceParent("00-\(trace)-\(parent)-00")?.flags == 0)
        #expect(TraceParent("00-\(trace)-\(parent)-ff")?.flags == 0xFF)
    }

    @Test(arguments: [
        "",
        "00",
        // One short, one long (version 00 is exactly 55 characters).
        "00-\(trace)-\(parent)-0",
        "00-\(trace)-\(parent)-01-",
        "00-\(trace)-\(parent)-01-extra",
        // Upper case hex anywhere.
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-\(parent)-01",
        "00-\(trace)-00F067AA0BA902B7-01",
        "00-\(trace)-\(parent)-0A",
        "0A-\(trace)-\(parent)-01",
        // All-zero ids.
        "00-00000000000000000000000000000000-\(parent)-01",
        "00-\(trace)-0000000000000000-01",
        // Version ff is forbidden.
        "ff-\(trace)-\(parent)-01",
        // Wrong separators, non-hex digits, fields of the wrong length.
        "00_\(trace)-\(parent)-01",
        "00-\(trace)_\(parent)-01",
        "00-\(trace)-\(parent)_01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-\(parent)-01",
        "00-\(trace)-00f067aa0ba902bz-01",
        "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b-01",
        " 00-\(trace)-\(parent)-01",
        "00-\(trace)-\(parent)-01 ",
    ])
    func invalidValuesGiveNothing(_ value: String) {
        #expect(TraceParent(value) == nil, "\(value)")
    }

    /// Forward compatibility: a later version is read by its first four fields, and may go on after a `-`.
    @Test func aLaterVersionIsReadByItsFirstFourFields() throws {
        let longer = try #require(TraceParent("cc-\(trace)-\(parent)-01-what-the-future-adds"))
        #expect(longer.version == 0xCC)
        #expect(longer.traceId == trace)
        #expect(TraceParent("01-\(trace)-\(parent)-01")?.traceId == trace)
        #expect(TraceParent("01-\(trace)-\(parent)-01x") == nil)
        #expect(TraceParent("01-\(trace)-\(parent)-0") == nil)
    }

    @Test func theTraceIdOfARequestsHeaders() {
        #expect(TraceParent.traceId(in: HTTPHeaders([("Host", "a"), ("TraceParent", Self.valid)])) == trace)
        #expect(TraceParent.traceId(in: HTTPHeaders([("Host", "a")])) == nil)
        #expect(TraceParent.traceId(in: HTTPHeaders([("traceparent", "garbage")])) == nil)
        // Two fields: which one a backend's tracer follows is unknown, so neither is logged.
        #expect(TraceParent.traceId(in: HTTPHeaders([("traceparent", Self.valid), ("traceparent", Self.valid)])) == nil)
    }
}
