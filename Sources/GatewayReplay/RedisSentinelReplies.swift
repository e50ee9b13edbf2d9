import GatewayCore

/// Readers for the Sentinel-side replies a client uses to find the master: the address query, `ROLE`,
/// and the `+switch-master` event.
public enum RedisSentinelReplies {
    /// Why a reply could not be read; the client then asks the next Sentinel.
    public enum ParseError: Error, Equatable, Sendable {
        /// The peer answered with an error (`-NOAUTH`, `-ERR unknown command`, ...).
        case errorReply(String)
        /// Not `[ip, port]` or null.
        case malformedMasterAddress
        /// Not one of the three `ROLE` shapes.
        case malformedRole
        /// A `ROLE` reply whose first element is none of master/slave/sentinel.
        case unknownRole(String)
        /// A `+switch-master` message whose payload is not `<name> <oldip> <oldport> <newip> <newport>`.
        case malformedSwitchMaster
    }

    /// One `+switch-master` event: Sentinel moved `name` from `oldMaster` to `newMaster`.
    public struct SwitchMaster: Sendable, Equatable {
        public let name: String
        public let oldMaster: RedisNodeAddress
        public let newMaster: RedisNodeAddress

        public init(name: String, oldMaster: RedisNodeAddress, newMaster: RedisNodeAddress) {
            self.name = name
            self.oldMaster = oldMaster
            self.newMaster = newMaster
        }
    }

    /// Reads `SENTINEL get-master-addr-by-name NAME`: the master, or nil when this Sentinel does not monitor NAME.
    public static func masterAddress(_ reply: RedisReply) throws(ParseError) -> RedisNodeAddress? {
        switch reply {
        case .null:
            return nil
        case .error(let message):
            throw .errorReply(message)
        case .array(let fields):
            guard fields.count == 2, let host = fields[0].text, !host.isEmpty,
                  let port = fields[1].integerValue, RedisNodeAddress.isValidPort(port)
            else { throw .malformedMasterAddress }
            return RedisNodeAddress(host: host, port: Int(port))
        default:
            throw .malformedMasterAddress
        }
    }

    /// Reads a `ROLE` reply from a data node or a Sentinel.
    public static func role(_ reply: RedisReply) throws(ParseError) -> RedisRole {
        if case .error(let message) = reply { throw .errorReply(message) }
        guard let fields = reply.elements, let kind = fields.first?.text else { throw .malformedRole }
        switch kind {
        case "master":
            // ["master", offset, [[ip, port, offset], ...]]; the ports here are bulk strings.
            guard fields.count >= 3, let list = fields[2].elements else { throw .malformedRole }
            var replicas: [RedisNodeAddress] = []
            for entry in list {
                guard let parts = entry.elements, parts.count >= 2, let host = parts[0].text,
                      let port = parts[1].integerValue, RedisNodeAddress.isValidPort(port)
                else { throw .malformedRole }
                replicas.append(RedisNodeAddress(host: host, port: Int(port)))
            }
            return .master(replicas: replicas)
        case "slave":
            // ["slave", masterIP, masterPort, state, offset]; state is "connected" once the link is up.
            guard fields.count >= 4, let host = fields[1].text, let port = fields[2].integerValue,
                  RedisNodeAddress.isValidPort(port), let state = fields[3].text
            else { throw .malformedRole }
            return .replica(master: RedisNodeAddress(host: host, port: Int(port)), linkUp: state == "connected")
        case "sentinel":
            guard fields.count >= 2, let list = fields[1].elements else { throw .malformedRole }
            var names: [String] = []
            for entry in list {
                guard let name = entry.text else { throw .malformedRole }
                names.append(name)
            }
            return .sentinel(masterNames: names)
        default:
            throw .unknownRole(kind)
        }
    }

    /// Reads one pub/sub push from a Sentinel; nil for anything that is not a `+switch-master` message
    /// (subscribe confirmations, other channels), which the subscriber simply skips.
    public static func switchMaster(_ reply: RedisReply) throws(ParseError) -> SwitchMaster? {
        guard let fields = reply.elements, let kind = fields.first?.text else { return nil }
        let channel: RedisReply
        let payload: RedisReply
        switch (kind, fields.count) {
        case ("message", 3): (channel, payload) = (fields[1], fields[2])
        case ("pmessage", 4): (channel, payload) = (fields[2], fields[3])
        default: return nil
        }
        guard channel.text == "+switch-master" else { return nil }
        guard let text = payload.text else { throw .malformedSwitchMaster }
        // Read from the end: the four address fields have no spaces, so whatever precedes them is the name.
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count >= 5 else { throw .malformedSwitchMaster }
        let tail = words.suffix(4).map(String.init)
        let name = words.dropLast(4).joined(separator: " ")
        guard !name.isEmpty, !tail[0].isEmpty, !tail[2].isEmpty,
              let oldPort = Int64(tail[1]), RedisNodeAddress.isValidPort(oldPort),
              let newPort = Int64(tail[3]), RedisNodeAddress.isValidPort(newPort)
        else { throw .malformedSwitchMaster }
        return SwitchMaster(name: name, oldMaster: RedisNodeAddress(host: tail[0], port: Int(oldPort)),
                            newMaster: RedisNodeAddress(host: tail[2], port: Int(newPort)))
    }
}
