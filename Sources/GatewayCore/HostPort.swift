/// A `host:port`, `[v6]:port` or `0.0.0.0:port` address from the configuration, split and checked.
///
/// In GatewayCore because the Redis URL parser (shared by `check` and the replay store) checks hosts by the same rules.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets: `127.0.0.1`, `::1`, `localhost`.
    public var host: String
    /// 0...65535.
    public var port: Int

    /// Makes an address from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// True when the host is an IPv6 literal (written in brackets).
    public var isIPv6: Bool { host.contains(":") }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `host:port` (host a name or IPv4 literal) or `[v6]:port`; nil for anything else.
    public static func parse(_ text: String) -> HostPort? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard isIPv6Literal(host) else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard isHostName(host) else { return nil }
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText), port <= 65535 else { return nil }
        return HostPort(host: String(host), port: port)
    }

    /// A DNS name or IPv4 literal: dot-separated labels of letters, digits, `-` and `_`.
    static func isHostName(_ host: Substring) -> Bool {
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy(isLabelScalar)
        }
    }

    private static func isLabelScalar(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "-" || c == "_"
    }

    /// Hex groups and colons (with an optional embedded IPv4 tail and `%zone`), at least two colons, one `::` at most.
    static func isIPv6Literal(_ host: Substring) -> Bool {
        let address = host.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
        guard let main = address.first, !main.isEmpty, main.utf8.count <= 45 else { return false }
        if address.count == 2, address[1].isEmpty { return false }
        guard main.filter({ $0 == ":" }).count >= 2 else { return false }
        guard main.utf8.indices.filter({ main.utf8[$0...].starts(with: "::".utf8) }).count <= 1 else { return false }
        let groups = main.split(separator: ":", omittingEmptySubsequences: true)
        guard groups.count <= 8 else { return false }
        for (i, group) in groups.enumerated() {
            if group.contains(".") {
                guard i == groups.count - 1, isHostName(group), group.split(separator: ".").count == 4,
                      group.allSatisfy({ $0 == "." || ($0.isASCII && $0.isNumber) }) else { return false }
            } else {
                guard group.count <= 4, group.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit }) else { return false }
            }
        }
        return true
    }
}
