import GatewayCore
import Testing

@Suite("TimeSpan")
struct TimeSpanTests {
    @Test("parses each unit the contract names", arguments: [
        ("250ms", Int64(250_000_000)),
        ("10s", 10_000_000_000),
        ("5m", 300_000_000_000),
        ("2h", 7_200_000_000_000),
        ("0s", 0),
        ("1500ms", 1_500_000_000),
    ])
    func parsesUnits(text: String, nanos: Int64) {
        #expect(TimeSpan.parse(text) == TimeSpan(nanoseconds: nanos))
    }

    @Test("rejects anything but <digits><unit>", arguments: [
        "", "10", "s", "ms", "1.5s", "-1s", "+1s", "10 s", " 10s", "10s ", "10S", "10sec", "5mm", "1e3ms", "１0s",
    ])
    func rejects(text: String) {
        #expect(TimeSpan.parse(text) == nil)
    }

    @Test("rejects values that overflow 64-bit nanoseconds, accepts the largest that fits")
    func overflow() {
        // 2_562_047 h is the last whole hour below Int64.max nanoseconds (9_223_372_036_854_775_807).
        #expect(TimeSpan.parse("2562047h") == .hours(2_562_047))
        #expect(TimeSpan.parse("2562048h") == nil)
        #expect(TimeSpan.parse("9999999999h") == nil)
        // More than 12 digits is refused before any arithmetic.
        #expect(TimeSpan.parse("1234567890123s") == nil)
        #expect(TimeSpan.parse("999999999999ms") == .milliseconds(999_999_999_999))
    }

    @Test("description picks the largest whole unit", arguments: [
        (TimeSpan.milliseconds(250), "250ms"),
        (.seconds(10), "10s"),
        (.minutes(5), "5m"),
        (.hours(2), "2h"),
        (.seconds(60), "1m"),
        (.minutes(120), "2h"),
        (.seconds(90), "90s"),
        (.milliseconds(1500), "1500ms"),
        (.seconds(0), "0s"),
    ])
    func description(span: TimeSpan, text: String) {
        #expect(span.description == text)
        #expect(TimeSpan.parse(span.description) == span)
    }

    @Test("unit accessors and ordering")
    func accessors() {
        let span = TimeSpan.milliseconds(2_750)
        #expect(span.seconds == 2)
        #expect(span.milliseconds == 2_750)
        #expect(TimeSpan.milliseconds(999) < .seconds(1))
        #expect(TimeSpan.minutes(1) == .seconds(60))
        #expect(TimeSpan.hours(1) == .minutes(60))
    }
}
