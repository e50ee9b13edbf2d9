import GatewayCore
import GatewayLoop

/// The addresses each host name among the upstream servers stands for, and how a round of fresh answers changes
/// them. Pure: the resolver queue feeds it answers, the snapshot is rebuilt only when an address set changed.
struct ResolvedNames: Sendable, Equatable {
    /// Per `host:port`: its addresses, without duplicates, in a fixed order (DNS servers rotate their answers,
    /// which must not count as a change).
    private(set) var addresses: [HostPort: [SocketAddress]] = [:]
    /// Names whose last lookup failed; their last good addresses stay in use.
    private(set) var failing: Set<HostPort> = []

    /// What one round of answers did.
    struct Change: Equatable {
        /// Names whose address set is now different.
        var changed: [HostPort] = []
        /// Names whose lookup failed this round and did not the round before (warned about once).
        var startedFailing: [HostPort] = []
        /// Names that failed before and answered now.
        var recovered: [HostPort] = []
    }

    init(_ addresses: [HostPort: [SocketAddress]] = [:]) {
        for (name, list) in addresses { self.addresses[name] = Self.normalized(list) }
    }

    /// Takes a round of answers (nil or empty: the lookup failed); names not asked about are left alone.
    mutating func apply(_ answers: [HostPort: [SocketAddress]?]) -> Change {
        var change = Change()
        for name in answers.keys.sorted(by: { $0.description < $1.description }) {
            guard let answer = answers[name], let list = answer, !list.isEmpty else {
                if failing.insert(name).inserted { change.startedFailing.append(name) }
                continue
            }
            if failing.remove(name) != nil { change.recovered.append(name) }
            let fresh = Self.normalized(list)
            if addresses[name] != fresh {
                addresses[name] = fresh
                change.changed.append(name)
            }
        }
        return change
    }

    /// Duplicates dropped, sorted by their text.
    static func normalized(_ list: [SocketAddress]) -> [SocketAddress] {
        Array(Set(list)).sorted { $0.description < $1.description }
    }
}
