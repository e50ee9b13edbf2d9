/// A W3C Trace Context `traceparent` field value, parsed for the access log's `trace_id`.
///
/// Written here rather than taken from swift-w3c-trace-context, which is not among this project's allowed
/// dependencies; the gateway only reads the field (it is forwarded unchanged), so the parser is all it needs.
/// Rules (W3C Trace Context, "traceparent Header Field Values" and "Versioning of traceparent"): lowercase hex only;
/// version `ff` is invalid; version `00` is exactly `00-<32 hex>-<16 hex>-<2 hex>`; a later version is read by
/// those first four fields and may go on only after a `-`; an all-zero trace id or parent id is invalid.
public struct TraceParent: Sendable, Equatable {
    public var version: UInt8
    /// 32 lowercase hex digits.
    public var traceId: String
    /// 16 lowercase hex digits.
    public var parentId: String
    public var flags: UInt8

    /// Length of a version `00` value: `00-` + 32 + `-` + 16 + `-` + 2.
    static let length = 55

    /// Parses one field value; nil when it is not a valid `traceparent`.
    public init?<Bytes: Collection>(_ value: Bytes) where Bytes.Element == UInt8 {
        let b = Array(value)
        guard b.count >= Self.length,
              let version = Self.hexByte(b[0], b[1]), version != 0xFF,
              b[2] == UInt8(ascii: "-"), b[35] == UInt8(ascii: "-"), b[52] == UInt8(ascii: "-"),
              Self.isLowerHex(b[3..<35]), Self.isLowerHex(b[36..<52]),
              let flags = Self.hexByte(b[53], b[54]) else { return nil }
        if version == 0 {
            guard b.count == Self.length else { return nil }
        } else if b.count > Self.length {
            guard b[55] == UInt8(ascii: "-") else { return nil }
        }
        let zero = UInt8(ascii: "0")
        guard b[3..<35].contains(where: { $0 != zero }), b[36..<52].contains(where: { $0 != zero }) else { return nil }
        self.version = version
        traceId = String(decoding: b[3..<35], as: UTF8.self)
        parentId = String(decoding: b[36..<52], as: UTF8.self)
        self.flags = flags
    }

    public init?(_ value: String) { self.init(value.utf8) }

    /// The trace id of a request's `traceparent`: nil when there is none, when it is invalid, or when the field
    /// comes more than once (which one the backend's tracer follows is unknown, so neither is logged).
    public static func traceId(in headers: HTTPHeaders) -> String? {
        guard let i = headers.firstIndex(named: "traceparent") else { return nil }
        guard headers.all(named: "traceparent").count == 1 else { return nil }
        return TraceParent(headers.valueBytes(i))?.traceId
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    private static func hexByte(_ hi: UInt8, _ lo: UInt8) -> UInt8? {
        guard let h = hexValue(hi), let l = hexValue(lo) else { return nil }
        return h << 4 | l
    }

    private static func isLowerHex(_ bytes: ArraySlice<UInt8>) -> Bool { bytes.allSatisfy { hexValue($0) != nil } }
}
