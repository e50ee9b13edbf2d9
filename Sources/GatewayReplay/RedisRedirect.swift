import GatewayCore

/// A cluster node's `-MOVED` or `-ASK` error: the slot lives (for good, or for this one command) on another node.
public enum RedisRedirect: Sendable, Equatable {
    /// The slot has a new master: update the slot map and resend there.
    case moved(slot: Int, node: RedisNodeAddress)
    /// The slot is being migrated: resend this one command to `node`, preceded by `ASKING`; the map stays.
    case ask(slot: Int, node: RedisNodeAddress)

    /// Reads an error reply from `replier`; nil for any other reply or error (those are not redirects).
    public init?(reply: RedisReply, from replier: RedisNodeAddress) {
        guard case .error(let message) = reply else { return nil }
        self.init(errorMessage: message, from: replier)
    }

    /// Reads the text after `-`, e.g. `MOVED 3999 127.0.0.1:6381`; an empty host (`MOVED 3999 :6381`, sent when
    /// the node does not know its endpoint) means `replier`'s host.
    public init?(errorMessage: String, from replier: RedisNodeAddress) {
        let words = errorMessage.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == 3, let slot = Int(words[1]), slot >= 0, slot < RedisClusterSlot.count,
              let node = Self.endpoint(words[2], replier: replier)
        else { return nil }
        switch words[0] {
        case "MOVED": self = .moved(slot: slot, node: node)
        case "ASK": self = .ask(slot: slot, node: node)
        default: return nil
        }
    }

    /// The slot the redirect is about.
    public var slot: Int {
        switch self {
        case .moved(let slot, _), .ask(let slot, _): slot
        }
    }

    /// The node to resend to.
    public var node: RedisNodeAddress {
        switch self {
        case .moved(_, let node), .ask(_, let node): node
        }
    }

    /// `host:port` with the port after the last colon, so an unbracketed IPv6 host (`::1:7000`) splits right.
    private static func endpoint(_ text: Substring, replier: RedisNodeAddress) -> RedisNodeAddress? {
        guard let colon = text.lastIndex(of: ":"), let port = Int64(text[text.index(after: colon)...]),
              RedisNodeAddress.isValidPort(port)
        else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]"), host.count >= 2 {
            host = host.dropFirst().dropLast()
        }
        return RedisNodeAddress(host: host.isEmpty ? replier.host : String(host), port: Int(port))
    }
}
