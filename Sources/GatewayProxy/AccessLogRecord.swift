import GatewayCore

/// One access-log line: what happened to one exchange. There is no field that could hold a token.
public struct AccessLogRecord: Sendable {
    /// When the request head arrived, Unix seconds; written as ISO 8601 UTC with milliseconds.
    public var time: Double
    public var requestId: String
    /// Client IP.
    public var client: String
    public var method: String
    /// The normalized path, without the query (queries can carry secrets such as Shopify's `id_token`).
    public var path: String
    /// The matched route's `path_prefix`, nil when no route matched.
    public var route: String? {
        get { storedRoute.isEmpty ? nil : storedRoute }
        set { storedRoute = newValue ?? "" }
    }
    public var status: Int
    /// `none`, `anonymous`, `accepted`, or the rejection code (`token_expired`...).
    public var auth: String
    public var shop: String? {
        get { storedShop.isEmpty ? nil : storedShop }
        set { storedShop = newValue ?? "" }
    }
    /// The upstream server used (`host:port`), nil when the gateway answered itself.
    public var upstream: String? {
        get { storedUpstream.isEmpty ? nil : storedUpstream }
        set { storedUpstream = newValue ?? "" }
    }
    public var durationMs: Double
    /// Time until the upstream's response head arrived; nil when not forwarded.
    public var upstreamMs: Double?
    public var bytesIn: Int
    public var bytesOut: Int
    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2`.
    public var `protocol`: String
    /// The trace id of the request's valid W3C `traceparent`, nil when it had none.
    public var traceId: String? {
        get { storedTraceId.isEmpty ? nil : storedTraceId }
        set { storedTraceId = newValue ?? "" }
    }
    // Plain strings, empty for none (none of these is ever empty when present): swiftc 6.3 compiles the initializer
    // of a struct this size holding an `Optional<String>` with a dead copy and destroy of the whole record.
    private var storedRoute: String
    private var storedShop: String
    private var storedUpstream: String
    private var storedTraceId: String

    public init(time: Double, requestId: String, client: String, method: String, path: String, route: String?,
                status: Int, auth: String, shop: String?, upstream: String?, durationMs: Double, upstreamMs: Double?,
                bytesIn: Int, bytesOut: Int, protocol: String, traceId: String? = nil) {
        self.time = time
        self.requestId = requestId
        self.client = client
        self.method = method
        self.path = path
        storedRoute = route ?? ""
        self.status = status
        self.auth = auth
        storedShop = shop ?? ""
        storedUpstream = upstream ?? ""
        self.durationMs = durationMs
        self.upstreamMs = upstreamMs
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.protocol = `protocol`
        storedTraceId = traceId ?? ""
    }

    /// The record as one JSON object (no trailing newline), every string escaped.
    public func jsonLine() -> String {
        var out: [UInt8] = []
        appendJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `jsonLine()`'s bytes to `out` (the per-loop batch): no intermediate string, array or number text.
    func appendJSON(to out: inout [UInt8]) {
        out.reserveCapacity(out.count + 320 + path.utf8.count)
        ASCII.append(#"{"time":""#, to: &out)
        AccessLogRecord.appendISO8601(&out, time)
        out.append(UInt8(ascii: "\""))
        field(&out, "request_id", requestId)
        field(&out, "client", client)
        field(&out, "method", method)
        field(&out, "path", path)
        field(&out, "route", route)
        key(&out, "status")
        ASCII.appendDecimal(Int64(status), to: &out)
        field(&out, "auth", auth)
        field(&out, "shop", shop)
        field(&out, "upstream", upstream)
        key(&out, "duration_ms")
        AccessLogRecord.appendMilliseconds(&out, durationMs)
        key(&out, "upstream_ms")
        if let upstreamMs { AccessLogRecord.appendMilliseconds(&out, upstreamMs) } else { ASCII.append("null", to: &out) }
        key(&out, "bytes_in")
        ASCII.appendDecimal(Int64(bytesIn), to: &out)
        key(&out, "bytes_out")
        ASCII.appendDecimal(Int64(bytesOut), to: &out)
        field(&out, "protocol", `protocol`)
        field(&out, "trace_id", traceId)
        out.append(UInt8(ascii: "}"))
    }

    /// `,"key":`
    private func key(_ out: inout [UInt8], _ key: StaticString) {
        ASCII.append(#",""#, to: &out)
        ASCII.append(key, to: &out)
        ASCII.append(#"":"#, to: &out)
    }

    private func field(_ out: inout [UInt8], _ name: StaticString, _ value: String?) {
        key(&out, name)
        guard let value else { return ASCII.append("null", to: &out) }
        out.append(UInt8(ascii: "\""))
        AccessLogRecord.appendEscaped(&out, value)
        out.append(UInt8(ascii: "\""))
    }

    /// JSON string escaping on bytes: quotes, backslash and every control character.
    static func appendEscaped(_ out: inout [UInt8], _ s: String) {
        var s = s
        s.withUTF8 { bytes in
            // Most values need no escape: copied in one piece.
            guard bytes.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 || $0 == 0x7F })
            else { return out.append(contentsOf: bytes) }
            let hex: StaticString = "0123456789abcdef"
            for b in bytes {
                switch b {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
                case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
                case 0x00..<0x20, 0x7F:
                    ASCII.append(#"\u00"#, to: &out)
                    hex.withUTF8Buffer { h in
                        out.append(h[Int(b >> 4)])
                        out.append(h[Int(b & 0xF)])
                    }
                default:
                    out.append(b)
                }
            }
        }
    }

    /// A duration with three decimals (`12.345`), no exponent notation.
    static func milliseconds(_ ms: Double) -> String {
        var out: [UInt8] = []
        appendMilliseconds(&out, ms)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendMilliseconds(_ out: inout [UInt8], _ ms: Double) {
        // Below 2^53 µs (285 years) the product is exact enough; beyond, and for NaN or negatives, 0.
        guard ms.isFinite, ms >= 0, ms < 9e12 else { return out.append(UInt8(ascii: "0")) }
        let micros = Int64((ms * 1000).rounded())
        ASCII.appendDecimal(micros / 1000, to: &out)
        out.append(UInt8(ascii: "."))
        ASCII.appendDecimal(micros % 1000, minimumDigits: 3, to: &out)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for Unix seconds, without Foundation (civil-from-days, H. Hinnant).
    static func appendISO8601(_ out: inout [UInt8], _ seconds: Double) {
        // Clamped to years 1970-9999 so every field keeps its width and no digit goes negative.
        let clamped = seconds.isFinite ? min(max(seconds, 0), 253_402_300_799) : 0
        let totalMs = Int64((clamped * 1000).rounded(.down))
        var days = totalMs / 86_400_000
        var msOfDay = totalMs % 86_400_000
        if msOfDay < 0 { msOfDay += 86_400_000; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func digits(_ v: Int64, _ width: Int) { ASCII.appendDecimal(v, minimumDigits: width, to: &out) }
        digits(year, 4); out.append(UInt8(ascii: "-"))
        digits(month, 2); out.append(UInt8(ascii: "-"))
        digits(day, 2); out.append(UInt8(ascii: "T"))
        digits(msOfDay / 3_600_000, 2); out.append(UInt8(ascii: ":"))
        digits(msOfDay / 60_000 % 60, 2); out.append(UInt8(ascii: ":"))
        digits(msOfDay / 1000 % 60, 2); out.append(UInt8(ascii: "."))
        digits(msOfDay % 1000, 3); out.append(UInt8(ascii: "Z"))
    }
}
