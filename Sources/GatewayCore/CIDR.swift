/// Why a CIDR could not be read (`check` prints the description).
public enum CIDRError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidAddress(String)
    case invalidPrefixLength(String)
    /// `10.1.2.3/8`: bits set past the prefix, most often a typo for the network or for a `/32`.
    case hostBitsSet(String, network: String)

    public var description: String {
        switch self {
        case .invalidAddress(let t): return "invalid CIDR '\(t)' (expected an IPv4 or IPv6 address, optionally /prefix)"
        case .invalidPrefixLength(let t): return "invalid prefix length in '\(t)' (0-32 for IPv4, 0-128 for IPv6)"
        case .hostBitsSet(let t, let network): return "'\(t)' has bits set past the prefix (the network is \(network))"
        }
    }
}

/// One address range: `10.0.0.0/8`, `2001:db8::/32`; a bare address is `/32` or `/128`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    public static func parse(_ text: String) throws(CIDRError) -> CIDR {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress.parse(parts[0]) else { throw .invalidAddress(text) }
        let maxLength: Int
        if case .v4 = address { maxLength = 32 } else { maxLength = 128 }
        var length = maxLength
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let n = Int(digits), n <= maxLength,
                  digits.count == 1 || digits.first != "0" else { throw .invalidPrefixLength(text) }
            length = n
        }
        let masked = CIDR.mask(address, length)
        guard masked == address else { throw .hostBitsSet(text, network: "\(masked)/\(length)") }
        return CIDR(network: masked, prefixLength: length)
    }

    /// Whether `address` lies in the range; an IPv4 range never holds an IPv6 address and the other way round.
    public func contains(_ address: IPAddress) -> Bool {
        switch (network, address) {
        case (.v4, .v4), (.v6, .v6): return CIDR.mask(address, prefixLength) == network
        default: return false
        }
    }

    public var description: String { "\(network)/\(prefixLength)" }

    static func mask(_ address: IPAddress, _ length: Int) -> IPAddress {
        switch address {
        case .v4(let a):
            return .v4(length == 0 ? 0 : a & ~UInt32(0) << UInt32(32 - length))
        case .v6(let hi, let lo):
            let hiMask: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~UInt64(0) << UInt64(64 - length))
            let loMask: UInt64 = length <= 64 ? 0 : (length == 128 ? ~0 : ~UInt64(0) << UInt64(128 - length))
            return .v6(hi & hiMask, lo & loMask)
        }
    }
}

/// `listeners[].trusted_proxies`: the peers whose `X-Forwarded-*` fields the gateway keeps.
public struct TrustedProxies: Sendable, Equatable {
    public let ranges: [CIDR]

    public init(_ ranges: [CIDR] = []) { self.ranges = ranges }

    public var isEmpty: Bool { ranges.isEmpty }

    public func contains(_ address: IPAddress) -> Bool { ranges.contains { $0.contains(address) } }

    /// Whether a numeric address as text (a peer's `ipString`, an `X-Forwarded-For` entry) is trusted; text that
    /// is not an address never is.
    public func contains(_ text: String) -> Bool {
        guard !ranges.isEmpty, let address = IPAddress.parse(text, allowZone: true) else { return false }
        return contains(address)
    }

    /// The client as seen by the last proxy we trust: walking `X-Forwarded-For` (oldest first) then the peer from
    /// the right, the first address not in the set. An entry that is not an address stops the walk at the trusted
    /// address to its right (as nginx's `real_ip_recursive`), so no made-up text reaches the log. All trusted:
    /// the leftmost.
    public func clientAddress(forwardedFor: [String], peer: String) -> String {
        guard contains(peer) else { return peer }
        var client = peer
        for entry in forwardedFor.reversed() {
            guard let address = IPAddress.parse(entry, allowZone: true) else { return client }
            client = entry
            if !contains(address) { return client }
        }
        return client
    }

    /// The comma-separated, space-trimmed, non-empty entries of `X-Forwarded-For` values, in order.
    public static func entries(_ values: [String]) -> [String] {
        var out: [String] = []
        for v in values {
            for part in v.split(separator: ",") {
                let t = part.trimmingASCIISpaces()
                if !t.isEmpty { out.append(t) }
            }
        }
        return out
    }
}

extension Substring {
    func trimmingASCIISpaces() -> String {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
