import GatewayCore
import Testing

/// The PROXY protocol v1/v2 parser fed whole, byte by byte and at random splits, and every way a header is refused.
@Suite struct ProxyHeaderParserTests {
    static let request: [UInt8] = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    static func v2(command: UInt8 = 0x21, family: UInt8, block: [UInt8]) -> [UInt8] {
        v2Signature + [command, family, UInt8(block.count >> 8), UInt8(block.count & 0xFF)] + block
    }

    static let v2IPv4 = v2(family: 0x11, block: [192, 0, 2, 7, 10, 0, 0, 1, 0xDC, 0x04, 0x01, 0xBB])
    static let v2IPv6: [UInt8] = v2(family: 0x21, block: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
                                    + [UInt8](repeating: 0, count: 15) + [2] + [0x30, 0x39, 0x01, 0xBB]
                                    // A TLV (type 0x04 NOOP, length 3) is skipped.
                                    + [0x04, 0x00, 0x03, 9, 9, 9])

    /// Feeds `bytes` in pieces cut at `cuts`; the result and whether every piece before the last said needMore.
    static func parse(_ bytes: [UInt8], cuts: [Int]) throws(ProxyHeaderError) -> ProxyHeaderProgress {
        var parser = ProxyHeaderParser()
        var start = 0
        var last = ProxyHeaderProgress.needMore
        for end in (cuts.filter { $0 > 0 && $0 < bytes.count }.sorted() + [bytes.count]) where end > start {
            last = try parser.feed(bytes[start..<end])
            start = end
            if case .complete = last { break }
        }
        // Anything left after completion belongs to the caller: feed it by hand to check `rest`.
        if case .complete(let h, let rest) = last, start < bytes.count {
            return .complete(h, rest: rest + bytes[start...])
        }
        return last
    }

    static func everySplit(_ bytes: [UInt8], expect: ProxyHeaderProgress) throws {
        #expect(try parse(bytes, cuts: []) == expect, "whole")
        #expect(try parse(bytes, cuts: Array(1..<bytes.count)) == expect, "byte by byte")
        var g = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let cuts = (0..<Int.random(in: 1...6, using: &g)).map { _ in Int.random(in: 1..<bytes.count, using: &g) }
            #expect(try parse(bytes, cuts: cuts) == expect, "cuts \(cuts)")
        }
    }

    @Test func v1TCP4WithTheRequestBehindIt() throws {
        let header = Array("PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n".utf8)
        try Self.everySplit(header + Self.request, expect: .complete(
            ProxyHeader(version: 1, source: IPAddress.parse("192.0.2.7"), sourcePort: 56324), rest: Self.request))
    }

    @Test func v1TCP6AndUnknown() throws {
        try Self.everySplit(Array("PROXY TCP6 2001:db8::1 2001:db8::2 0 65535\r\n".utf8), expect: .complete(
            ProxyHeader(version: 1, source: IPAddress.parse("2001:db8::1"), sourcePort: 0), rest: []))
        try Self.everySplit(Array("PROXY UNKNOWN ffff::1 whatever\r\n".utf8) + Self.request,
                            expect: .complete(ProxyHeader(version: 1, source: nil, sourcePort: nil), rest: Self.request))
        try Self.everySplit(Array("PROXY UNKNOWN\r\n".utf8),
                            expect: .complete(ProxyHeader(version: 1, source: nil, sourcePort: nil), rest: []))
    }

    @Test func v1OfTheLongestLengthIsTaken() throws {
        // The spec's worst case.
        let longest = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
        #expect(longest.utf8.count == ProxyHeaderParser.maxV1Length)
        try Self.everySplit(Array(longest.utf8) + Self.request, expect: .complete(
            ProxyHeader(version: 1, source: nil, sourcePort: nil), rest: Self.request))
        let tcp6 = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
        try Self.everySplit(Array(tcp6.utf8), expect: .complete(
            ProxyHeader(version: 1, source: IPAddress.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), sourcePort: 65535),
            rest: []))
    }

    @Test func v2ProxyOverIPv4AndIPv6() throws {
        try Self.everySplit(Self.v2IPv4 + Self.request, expect: .complete(
            ProxyHeader(version: 2, source: IPAddress.parse("192.0.2.7"), sourcePort: 56324), rest: Self.request))
        try Self.everySplit(Self.v2IPv6 + Self.request, expect: .complete(
            ProxyHeader(version: 2, source: IPAddress.parse("2001:db8::1"), sourcePort: 12345), rest: Self.request))
    }

    @Test func v2LocalAndUnspecUseTheRealPeer() throws {
        try Self.everySplit(Self.v2(command: 0x20, family: 0x11, block: [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2]) + Self.request,
                            expect: .complete(ProxyHeader(version: 2, source: nil, sourcePort: nil), rest: Self.request))
        try Self.everySplit(Self.v2(command: 0x20, family: 0x00, block: []),
                            expect: .complete(ProxyHeader(version: 2, source: nil, sourcePort: nil), rest: []))
        try Self.everySplit(Self.v2(family: 0x00, block: []) + [0x16],
                            expect: .complete(ProxyHeader(version: 2, source: nil, sourcePort: nil), rest: [0x16]))
    }

    @Test func incompleteHeadersWaitForMore() throws {
        var parser = ProxyHeaderParser()
        let partialV1 = try parser.feed(Array("PROXY TCP4 1.2.3.4".utf8))
        #expect(partialV1 == .needMore)
        var v2 = ProxyHeaderParser()
        let partialV2 = try v2.feed(Self.v2IPv4.dropLast())
        #expect(partialV2 == .needMore)
        let completed = try v2.feed(Self.v2IPv4.suffix(1))
        #expect(completed == .complete(
            ProxyHeader(version: 2, source: IPAddress.parse("192.0.2.7"), sourcePort: 56324), rest: []))
    }

    static let refused: [(String, [UInt8], ProxyHeaderError)] = [
        ("plain HTTP", request, .notAProxyHeader),
        ("TLS ClientHello", [0x16, 0x03, 0x01, 0x00], .notAProxyHeader),
        ("h2c preface", Array("PRI * HTTP/2.0\r\n".utf8), .notAProxyHeader),
        ("lower case", Array("proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n".utf8), .notAProxyHeader),
        ("bad v2 signature", [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0D], .notAProxyHeader),
        ("no CRLF in 107 bytes", Array(("PROXY UNKNOWN " + String(repeating: "x", count: 100)).utf8), .v1TooLong),
        ("108 byte line", Array(("PROXY UNKNOWN " + String(repeating: "x", count: 92) + "\r\n").utf8), .v1TooLong),
        ("bare LF", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n".utf8), .v1Malformed),
        ("CR without LF", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX".utf8), .v1Malformed),
        ("empty protocol", Array("PROXY \r\n".utf8), .v1Malformed),
        ("UDP4", Array("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n".utf8), .v1Malformed),
        ("missing port", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n".utf8), .v1Malformed),
        ("extra field", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n".utf8), .v1Malformed),
        ("double space", Array("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n".utf8), .v1Malformed),
        ("trailing space", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n".utf8), .v1Malformed),
        ("host name", Array("PROXY TCP4 example.com 5.6.7.8 1 2\r\n".utf8), .v1BadAddress),
        ("IPv6 on TCP4", Array("PROXY TCP4 ::1 5.6.7.8 1 2\r\n".utf8), .v1BadAddress),
        ("IPv4 on TCP6", Array("PROXY TCP6 1.2.3.4 ::1 1 2\r\n".utf8), .v1BadAddress),
        ("bad destination", Array("PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n".utf8), .v1BadAddress),
        ("port too big", Array("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n".utf8), .v1BadPort),
        ("leading zero port", Array("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n".utf8), .v1BadPort),
        ("negative port", Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n".utf8), .v1BadPort),
        ("v2 version 1", v2Signature + [0x11, 0x11, 0, 0], .v2BadVersion),
        ("v2 version 3", v2Signature + [0x31], .v2BadVersion),
        ("v2 command 2", v2Signature + [0x22, 0x11, 0, 12], .v2BadCommand),
        ("v2 UDP over IPv4", v2(family: 0x12, block: [UInt8](repeating: 0, count: 12)), .v2UnsupportedFamily),
        ("v2 unix", v2(family: 0x31, block: [UInt8](repeating: 0, count: 216)), .v2UnsupportedFamily),
        ("v2 family 4", v2(family: 0x41, block: []), .v2UnsupportedFamily),
        ("v2 short IPv4 block", v2(family: 0x11, block: [UInt8](repeating: 0, count: 11)), .v2ShortAddresses),
        ("v2 short IPv6 block", v2(family: 0x21, block: [UInt8](repeating: 0, count: 35)), .v2ShortAddresses),
        ("v2 too long", v2Signature + [0x21, 0x11, 0x08, 0x01], .v2TooLong),
        ("v2 longest length", v2Signature + [0x21, 0x11, 0xFF, 0xFF], .v2TooLong),
    ]

    @Test func everyMalformedHeaderIsRefusedWholeAndByteByByte() {
        for (name, bytes, error) in Self.refused {
            #expect(throws: error, "\(name) whole") { _ = try Self.parse(bytes, cuts: []) }
            #expect(throws: error, "\(name) byte by byte") { _ = try Self.parse(bytes, cuts: Array(1..<bytes.count)) }
        }
    }

    @Test func garbageIsRefusedAtItsFirstByte() throws {
        var parser = ProxyHeaderParser()
        #expect(throws: ProxyHeaderError.notAProxyHeader) { _ = try parser.feed([UInt8(ascii: "G")]) }
        // A refused parser stays refused.
        #expect(throws: ProxyHeaderError.notAProxyHeader) { _ = try parser.feed(Array("PROXY ".utf8)) }
        var early = ProxyHeaderParser()
        let prefix = try early.feed(Array("PRO".utf8))
        #expect(prefix == .needMore)
        #expect(throws: ProxyHeaderError.notAProxyHeader) { _ = try early.feed(Array("Z".utf8)) }
    }

    @Test func aV2LengthAtTheBoundIsTaken() throws {
        let block = [192, 0, 2, 7, 10, 0, 0, 1, 0, 80, 1, 187] + [UInt8](repeating: 0, count: ProxyHeaderParser.maxV2Length - 12)
        #expect(try Self.parse(Self.v2(family: 0x11, block: block), cuts: []) == .complete(
            ProxyHeader(version: 2, source: IPAddress.parse("192.0.2.7"), sourcePort: 80), rest: []))
    }
}
