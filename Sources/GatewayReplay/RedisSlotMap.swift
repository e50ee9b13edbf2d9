import GatewayCore

/// Which master serves each of the 16384 cluster slots, read from a `CLUSTER SLOTS` reply and patched by `MOVED`.
public struct RedisSlotMap: Sendable, Equatable {
    /// Why a `CLUSTER SLOTS` reply could not be read; the client then keeps its old map and asks another node.
    public enum ParseError: Error, Equatable, Sendable {
        /// The node answered with an error (`-CLUSTERDOWN`, `-NOAUTH`, `-ERR This instance has cluster support disabled`).
        case errorReply(String)
        /// The reply was not an array of slot ranges.
        case notAnArray
        /// Range `index` is not `[start, end, [host, port, ...], replicas...]`.
        case malformedRange(index: Int)
        /// Range `index` has a start or end outside 0...16383, or start after end.
        case slotOutOfRange(index: Int)
        /// Range `index` has a master whose host or port cannot be used.
        case malformedNode(index: Int)
        /// Range `index` claims slots an earlier range already gave to a master.
        case overlappingRange(index: Int)
    }

    /// Marks a slot no master serves (yet): the reply left it out or named an unknown endpoint (`?`).
    private static let unassigned = UInt16.max

    /// For each slot, an index into `nodes`, or `unassigned`.
    private var owner: [UInt16]
    /// The nodes `owner` points at; an entry whose count fell to 0 is reused, so a stream of `MOVED` replies
    /// naming new nodes cannot grow it past one entry per slot (and `UInt16` indexes stay in range).
    private var nodes: [RedisNodeAddress]
    /// Slots served per entry of `nodes`.
    private var slotCounts: [Int]

    /// A map with no slot assigned: what a client has before its first `CLUSTER SLOTS`.
    public init() {
        owner = Array(repeating: Self.unassigned, count: RedisClusterSlot.count)
        nodes = []
        slotCounts = []
    }

    /// Reads a `CLUSTER SLOTS` reply sent by `replier`, whose host stands in for empty or null endpoints
    /// (the spec's "same endpoint as the request", used behind load balancers and on a lone node).
    public init(clusterSlotsReply reply: RedisReply, from replier: RedisNodeAddress) throws(ParseError) {
        self.init()
        let ranges: [RedisReply]
        switch reply {
        case .array(let a): ranges = a
        case .error(let message): throw .errorReply(message)
        default: throw .notAnArray
        }
        var parsed: [(index: Int, start: Int, end: Int, node: RedisNodeAddress?)] = []
        parsed.reserveCapacity(ranges.count)
        for (index, range) in ranges.enumerated() {
            guard let fields = range.elements, fields.count >= 3,
                  case .integer(let start) = fields[0], case .integer(let end) = fields[1]
            else { throw .malformedRange(index: index) }
            guard start >= 0, end < RedisClusterSlot.count, start <= end else { throw .slotOutOfRange(index: index) }
            let node = try Self.node(fields[2], replier: replier, index: index)
            parsed.append((index, Int(start), Int(end), node))
        }
        // Sorted to find overlaps in one pass, whatever order the node listed its ranges in.
        parsed.sort { $0.start < $1.start }
        var previousEnd = -1
        for range in parsed {
            guard range.start > previousEnd else { throw .overlappingRange(index: range.index) }
            previousEnd = range.end
            guard let node = range.node else { continue }
            assign(range.start...range.end, to: node)
        }
    }

    /// The master of one range entry; nil for `?`, the spec's "endpoint unknown", which leaves those slots unassigned.
    private static func node(_ reply: RedisReply, replier: RedisNodeAddress, index: Int) throws(ParseError) -> RedisNodeAddress? {
        guard let fields = reply.elements, fields.count >= 2, case .integer(let port) = fields[1] else {
            throw .malformedNode(index: index)
        }
        let host: String
        switch fields[0] {
        case .null: host = replier.host
        case .bulk, .status: host = fields[0].text ?? ""
        default: throw .malformedNode(index: index)
        }
        if host == "?" { return nil }
        guard RedisNodeAddress.isValidPort(port) else { throw .malformedNode(index: index) }
        return RedisNodeAddress(host: host.isEmpty ? replier.host : host, port: Int(port))
    }

    /// The master that serves `slot`; nil when none does or the slot is outside 0...16383.
    public func master(forSlot slot: Int) -> RedisNodeAddress? {
        guard slot >= 0, slot < owner.count else { return nil }
        let index = owner[slot]
        return index == Self.unassigned ? nil : nodes[Int(index)]
    }

    /// The master that serves `key`'s slot.
    public func master(forKey key: [UInt8]) -> RedisNodeAddress? {
        master(forSlot: RedisClusterSlot.slot(forKey: key))
    }

    /// The masters serving at least one slot, each once, in order of the lowest slot they serve.
    public var masters: [RedisNodeAddress] {
        var seen = Array(repeating: false, count: nodes.count)
        var result: [RedisNodeAddress] = []
        for index in owner where index != Self.unassigned && !seen[Int(index)] {
            seen[Int(index)] = true
            result.append(nodes[Int(index)])
        }
        return result
    }

    /// Whether no slot has a master (before the first `CLUSTER SLOTS`); O(nodes), unlike `masters`, which walks
    /// every slot: this one is asked once per command.
    public var isEmpty: Bool { !slotCounts.contains { $0 > 0 } }

    /// Whether every slot has a master: a map with holes makes some keys unreachable until the next refresh.
    public var coversAllSlots: Bool { !owner.contains(Self.unassigned) }

    /// Moves one slot to `node`, as a `MOVED` reply says; false (and no change) for a slot outside 0...16383.
    @discardableResult
    public mutating func assign(slot: Int, to node: RedisNodeAddress) -> Bool {
        guard slot >= 0, slot < owner.count else { return false }
        assign(slot...slot, to: node)
        return true
    }

    /// Gives a range of valid slots to `node`, looking the node up once rather than once per slot.
    private mutating func assign(_ slots: ClosedRange<Int>, to node: RedisNodeAddress) {
        for slot in slots where owner[slot] != Self.unassigned {
            slotCounts[Int(owner[slot])] -= 1
        }
        let index: Int
        if let known = nodes.firstIndex(of: node) {
            index = known
        } else if let free = slotCounts.firstIndex(of: 0) {
            nodes[free] = node
            index = free
        } else {
            nodes.append(node)
            slotCounts.append(0)
            index = nodes.count - 1
        }
        for slot in slots { owner[slot] = UInt16(index) }
        slotCounts[index] += slots.count
    }

    /// Equal when every slot has the same master, however the nodes are stored.
    public static func == (lhs: RedisSlotMap, rhs: RedisSlotMap) -> Bool {
        (0..<RedisClusterSlot.count).allSatisfy { lhs.master(forSlot: $0) == rhs.master(forSlot: $0) }
    }
}
