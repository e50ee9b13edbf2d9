/// Why a connection's PROXY protocol header was refused (the connection is closed without an answer).
public enum ProxyHeaderError: Error, Sendable, Equatable {
    /// The first bytes are neither `PROXY ` (v1) nor the v2 signature.
    case notAProxyHeader
    /// No CRLF within the 107 bytes v1 allows.
    case v1TooLong
    /// A v1 line that is not `PROXY TCP4|TCP6 src dst sport dport` or `PROXY UNKNOWN...`.
    case v1Malformed
    /// A v1 address that is not numeric, or not of the family the line names.
    case v1BadAddress
    /// A v1 port that is not 0-65535 written without leading zeros.
    case v1BadPort
    /// A v2 version other than 2.
    case v2BadVersion
    /// A v2 command other than LOCAL (0) or PROXY (1).
    case v2BadCommand
    /// v2 PROXY over something other than TCP over IPv4/IPv6 (or UNSPEC).
    case v2UnsupportedFamily
    /// A v2 address block shorter than its family needs.
    case v2ShortAddresses
    /// A v2 address block longer than `ProxyHeaderParser.maxV2Length`.
    case v2TooLong
}

/// What a PROXY protocol header said about the connection.
public struct ProxyHeader: Sendable, Equatable {
    /// 1 (text) or 2 (binary).
    public var version: Int
    /// The client's address; nil for v2 LOCAL, v1 UNKNOWN and v2 UNSPEC: use the real peer (a health check of the
    /// proxy itself).
    public var source: IPAddress?
    public var sourcePort: UInt16?

    public init(version: Int, source: IPAddress?, sourcePort: UInt16?) {
        self.version = version
        self.source = source
        self.sourcePort = sourcePort
    }
}

/// Where an incremental parse stands after a feed.
public enum ProxyHeaderProgress: Sendable, Equatable {
    case needMore
    /// The header, and the bytes after it (a TLS ClientHello, an HTTP request, an h2c preface), to be read next.
    case complete(ProxyHeader, rest: [UInt8])
}

/// Reads the PROXY protocol v1 or v2 header (haproxy `proxy-protocol.txt`) that opens a connection from a load
/// balancer, however its bytes are split. Bounded: a v1 line is at most 107 bytes, a v2 address block at most
/// `maxV2Length`; anything else is refused at the first byte that cannot belong to a header.
public struct ProxyHeaderParser: Sendable {
    static let v1Prefix: [UInt8] = Array("PROXY ".utf8)
    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// The longest v1 line, CRLF included.
    public static let maxV1Length = 107
    /// The longest v2 address block (addresses and TLVs) taken: AWS NLB and haproxy send well under it.
    public static let maxV2Length = 2048

    private var buffer: [UInt8] = []
    private var failure: ProxyHeaderError?
    private var finished = false

    public init() {}

    /// Takes the next bytes from the connection.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(ProxyHeaderError) -> ProxyHeaderProgress {
        if let failure { throw failure }
        guard !finished else { return .needMore }
        buffer.append(contentsOf: bytes)
        do throws(ProxyHeaderError) {
            let progress = try step()
            if case .complete = progress {
                finished = true
                buffer = []
            }
            return progress
        } catch {
            failure = error
            buffer = []
            throw error
        }
    }

    private func step() throws(ProxyHeaderError) -> ProxyHeaderProgress {
        guard let first = buffer.first else { return .needMore }
        let signature = first == Self.v1Prefix[0] ? Self.v1Prefix : Self.v2Signature
        let seen = min(buffer.count, signature.count)
        guard buffer[0..<seen].elementsEqual(signature[0..<seen]) else { throw .notAProxyHeader }
        guard buffer.count >= signature.count else { return .needMore }
        return signature == Self.v1Prefix ? try stepV1() : try stepV2()
    }

    // MARK: v1

    private func stepV1() throws(ProxyHeaderError) -> ProxyHeaderProgress {
        // The CR of the longest line is its 106th byte.
        let limit = min(buffer.count, Self.maxV1Length - 1)
        var end: Int?
        for i in Self.v1Prefix.count..<limit {
            if buffer[i] == 0x0A { throw .v1Malformed }
            if buffer[i] == 0x0D {
                guard i + 1 < buffer.count else { return .needMore }
                guard buffer[i + 1] == 0x0A else { throw .v1Malformed }
                end = i
                break
            }
        }
        guard let end else {
            if buffer.count >= Self.maxV1Length - 1 { throw .v1TooLong }
            return .needMore
        }
        let header = try Self.parseV1(buffer[Self.v1Prefix.count..<end])
        return .complete(header, rest: Array(buffer[(end + 2)...]))
    }

    /// `TCP4 192.0.2.1 198.51.100.1 56324 443`, `TCP6 ...`, or `UNKNOWN` and anything up to the CRLF.
    static func parseV1(_ line: ArraySlice<UInt8>) throws(ProxyHeaderError) -> ProxyHeader {
        let words = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard let proto = words.first else { throw .v1Malformed }
        if proto.elementsEqual("UNKNOWN".utf8) { return ProxyHeader(version: 1, source: nil, sourcePort: nil) }
        let isV4 = proto.elementsEqual("TCP4".utf8)
        guard isV4 || proto.elementsEqual("TCP6".utf8) else { throw .v1Malformed }
        guard words.count == 5 else { throw .v1Malformed }
        guard let source = address(words[1], v4: isV4), address(words[2], v4: isV4) != nil else { throw .v1BadAddress }
        let sourcePort = try port(words[3])
        _ = try port(words[4])
        return ProxyHeader(version: 1, source: source, sourcePort: sourcePort)
    }

    /// A TCP4 line's addresses are dotted IPv4, a TCP6 line's are IPv6 (an IPv4-mapped one reads as IPv4).
    static func address(_ text: ArraySlice<UInt8>, v4: Bool) -> IPAddress? {
        if v4 { return IPAddress.parseV4(text).map { .v4($0) } }
        guard let (hi, lo) = IPAddress.parseV6(Array(text)) else { return nil }
        return hi == 0 && lo >> 32 == 0xFFFF ? .v4(UInt32(truncatingIfNeeded: lo)) : .v6(hi, lo)
    }

    static func port(_ digits: ArraySlice<UInt8>) throws(ProxyHeaderError) -> UInt16 {
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              digits.count == 1 || digits.first != 0x30 else { throw .v1BadPort }
        var value = 0
        for d in digits { value = value * 10 + Int(d - 0x30) }
        guard value <= 65535 else { throw .v1BadPort }
        return UInt16(value)
    }

    // MARK: v2

    private func stepV2() throws(ProxyHeaderError) -> ProxyHeaderProgress {
        guard buffer.count >= 16 else {
            if buffer.count >= 13 { try Self.checkVersionCommand(buffer[12]) }
            return .needMore
        }
        let command = try Self.checkVersionCommand(buffer[12])
        let family = buffer[13]
        let length = Int(buffer[14]) << 8 | Int(buffer[15])
        guard length <= Self.maxV2Length else { throw .v2TooLong }
        guard buffer.count >= 16 + length else { return .needMore }
        let block = buffer[16..<(16 + length)]
        let rest = Array(buffer[(16 + length)...])
        // LOCAL: the proxy speaking for itself (a health check); the real peer stands.
        if command == 0 { return .complete(ProxyHeader(version: 2, source: nil, sourcePort: nil), rest: rest) }
        switch family {
        case 0x00:
            // UNSPEC: the spec says to accept the connection and use the real endpoints.
            return .complete(ProxyHeader(version: 2, source: nil, sourcePort: nil), rest: rest)
        case 0x11:
            guard length >= 12 else { throw .v2ShortAddresses }
            let b = Array(block.prefix(12))
            let address = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
            let port = UInt16(b[8]) << 8 | UInt16(b[9])
            return .complete(ProxyHeader(version: 2, source: .v4(address), sourcePort: port), rest: rest)
        case 0x21:
            guard length >= 36 else { throw .v2ShortAddresses }
            let b = Array(block.prefix(36))
            var hi: UInt64 = 0
            var lo: UInt64 = 0
            for k in 0..<8 { hi = hi << 8 | UInt64(b[k]) }
            for k in 8..<16 { lo = lo << 8 | UInt64(b[k]) }
            let port = UInt16(b[32]) << 8 | UInt16(b[33])
            // An IPv4-mapped source is the IPv4 client, as for a socket peer.
            let source: IPAddress = hi == 0 && lo >> 32 == 0xFFFF ? .v4(UInt32(truncatingIfNeeded: lo)) : .v6(hi, lo)
            return .complete(ProxyHeader(version: 2, source: source, sourcePort: port), rest: rest)
        default:
            throw .v2UnsupportedFamily
        }
    }

    /// The command (0 LOCAL, 1 PROXY) of a version 2 header.
    @discardableResult
    static func checkVersionCommand(_ byte: UInt8) throws(ProxyHeaderError) -> UInt8 {
        guard byte >> 4 == 2 else { throw .v2BadVersion }
        let command = byte & 0x0F
        guard command <= 1 else { throw .v2BadCommand }
        return command
    }
}
