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
    public var route: String?
    public var status: Int
    /// `none`, `anonymous`, `accepted`, or the rejection code (`token_expired`...).
    public var auth: String
    public var shop: String?
    /// The upstream server used (`host:port`), nil when the gateway answered itself.
    public var upstream: String?
    public var durationMs: Double
    /// Time until the upstream's response head arrived; nil when not forwarded.
    public var upstreamMs: Double?
    public var bytesIn: Int
    public var bytesOut: Int
    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2`.
    public var `protocol`: String

    public init(time: Double, requestId: String, client: String, method: String, path: String, route: String?,
                status: Int, auth: String, shop: String?, upstream: String?, durationMs: Double, upstreamMs: Double?,
                bytesIn: Int, bytesOut: Int, protocol: String) {
        self.time = time
        self.requestId = requestId
        self.client = client
        self.method = method
        self.path = path
        self.route = route
        self.status = status
        self.auth = auth
        self.shop = shop
        self.upstream = upstream
        self.durationMs = durationMs
        self.upstreamMs = upstreamMs
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.protocol = `protocol`
    }

    /// The record as one JSON object (no trailing newline), every string escaped.
    public func jsonLine() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(320 + path.utf8.count)
        out.append(contentsOf: #"{"time":""#.utf8)
        AccessLogRecord.appendISO8601(&out, time)
        out.append(UInt8(ascii: "\""))
        field(&out, "request_id", requestId)
        field(&out, "client", client)
        field(&out, "method", method)
        field(&out, "path", path)
        field(&out, "route", route)
        raw(&out, "status", String(status))
        field(&out, "auth", auth)
        field(&out, "shop", shop)
        field(&out, "upstream", upstream)
        raw(&out, "duration_ms", AccessLogRecord.milliseconds(durationMs))
        raw(&out, "upstream_ms", upstreamMs.map(AccessLogRecord.milliseconds) ?? "null")
        raw(&out, "bytes_in", String(bytesIn))
        raw(&out, "bytes_out", String(bytesOut))
        field(&out, "protocol", `protocol`)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    private func raw(_ out: inout [UInt8], _ key: StaticString, _ value: String) {
        out.append(contentsOf: #",""#.utf8)
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: #"":"#.utf8)
        out.append(contentsOf: value.utf8)
    }

    private func field(_ out: inout [UInt8], _ key: StaticString, _ value: String?) {
        guard let value else { return raw(&out, key, "null") }
        out.append(contentsOf: #",""#.utf8)
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: #"":""#.utf8)
        AccessLogRecord.appendEscaped(&out, value)
        out.append(UInt8(ascii: "\""))
    }

    /// JSON string escaping on bytes: quotes, backslash and every control character.
    static func appendEscaped(_ out: inout [UInt8], _ s: String) {
        let hex: StaticString = "0123456789abcdef"
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x00..<0x20, 0x7F:
                out.append(contentsOf: #"\u00"#.utf8)
                hex.withUTF8Buffer { h in
                    out.append(h[Int(b >> 4)])
                    out.append(h[Int(b & 0xF)])
                }
            default:
                out.append(b)
            }
        }
    }

    /// A duration with three decimals (`12.345`), no exponent notation.
    static func milliseconds(_ ms: Double) -> String {
        guard ms.isFinite, ms >= 0 else { return "0" }
        let micros = Int64((ms * 1000).rounded())
        let whole = micros / 1000
        let frac = micros % 1000
        let fracText = String(frac)
        return String(whole) + "." + String(repeating: "0", count: 3 - fracText.count) + fracText
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
        func digits(_ v: Int64, _ width: Int) {
            var buffer = [UInt8](repeating: UInt8(ascii: "0"), count: width)
            var v = v
            var k = width - 1
            while k >= 0 {
                buffer[k] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                k -= 1
            }
            out.append(contentsOf: buffer)
        }
        digits(year, 4); out.append(UInt8(ascii: "-"))
        digits(month, 2); out.append(UInt8(ascii: "-"))
        digits(day, 2); out.append(UInt8(ascii: "T"))
        digits(msOfDay / 3_600_000, 2); out.append(UInt8(ascii: ":"))
        digits(msOfDay / 60_000 % 60, 2); out.append(UInt8(ascii: ":"))
        digits(msOfDay / 1000 % 60, 2); out.append(UInt8(ascii: "."))
        digits(msOfDay % 1000, 3); out.append(UInt8(ascii: "Z"))
    }
}
