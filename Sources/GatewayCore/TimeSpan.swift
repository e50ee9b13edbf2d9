/// A configured length of time (`250ms`, `10s`, `5m`, `2h`), kept as nanoseconds.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public static func milliseconds(_ v: Int64) -> TimeSpan { TimeSpan(nanoseconds: v &* 1_000_000) }
    public static func seconds(_ v: Int64) -> TimeSpan { TimeSpan(nanoseconds: v &* 1_000_000_000) }
    public static func minutes(_ v: Int64) -> TimeSpan { .seconds(v &* 60) }
    public static func hours(_ v: Int64) -> TimeSpan { .seconds(v &* 3600) }

    public var seconds: Int64 { nanoseconds / 1_000_000_000 }
    public var milliseconds: Int64 { nanoseconds / 1_000_000 }

    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Parses `<digits><unit>` with unit `ms`, `s`, `m` or `h`; nil for anything else.
    public static func parse(_ text: String) -> TimeSpan? {
        let units: [(String, Int64)] = [("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }),
                  let n = Int64(digits) else { return nil }
            let (v, overflow) = n.multipliedReportingOverflow(by: scale)
            return overflow ? nil : TimeSpan(nanoseconds: v)
        }
        return nil
    }

    public var description: String {
        let ns = nanoseconds
        if ns % 3_600_000_000_000 == 0, ns != 0 { return "\(ns / 3_600_000_000_000)h" }
        if ns % 60_000_000_000 == 0, ns != 0 { return "\(ns / 60_000_000_000)m" }
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        return "\(ns / 1_000_000)ms"
    }
}

/// A configured amount of bytes (`512`, `16KiB`, `10MiB`).
public enum ByteSize {
    /// Parses plain digits or digits followed by `KiB`, `MiB` or `GiB`; nil for anything else.
    public static func parse(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("", 1)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }),
                  let n = Int(digits) else { return nil }
            let (v, overflow) = n.multipliedReportingOverflow(by: scale)
            return overflow ? nil : v
        }
        return nil
    }

    public static func format(_ bytes: Int) -> String {
        if bytes != 0 && bytes % (1 << 30) == 0 { return "\(bytes >> 30)GiB" }
        if bytes != 0 && bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        if bytes != 0 && bytes % (1 << 10) == 0 { return "\(bytes >> 10)KiB" }
        return "\(bytes)"
    }
}
