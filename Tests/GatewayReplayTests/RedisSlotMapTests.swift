import GatewayCore
@testable import GatewayReplay
import Testing

private func bulk(_ s: String) -> RedisReply { .bulk(Array(s.utf8)) }

/// One `CLUSTER SLOTS` node entry as Redis 7.0 sends it: ip, port, id, and a (here empty) metadata array.
private func node(_ host: RedisReply, _ port: Int64, id: String = "07c37dfeb235213a872192d90877d0cd55635b91") -> RedisReply {
    .array([host, .integer(port), bulk(id), .array([])])
}

private func range(_ start: Int64, _ end: Int64, _ master: RedisReply, _ replicas: RedisReply...) -> RedisReply {
    .array([.integer(start), .integer(end), master] + replicas)
}

struct RedisSlotMapTests {
    let replier = RedisNodeAddress(host: "10.0.0.9", port: 7000)

    /// The reply of a three-master cluster with one replica each, ranges listed out of slot order as Redis may.
    var threeMastersReply: RedisReply {
        .array([
            range(5461, 10922, node(bulk("127.0.0.1"), 30002), node(bulk("127.0.0.1"), 30005)),
            range(0, 5460, node(bulk("127.0.0.1"), 30001), node(bulk("127.0.0.1"), 30004)),
            range(10923, 16383, node(bulk("127.0.0.1"), 30003), node(bulk("127.0.0.1"), 30006)),
        ])
    }

    @Test func threeMasters() throws {
        let map = try RedisSlotMap(clusterSlotsReply: threeMastersReply, from: replier)
        let a = RedisNodeAddress(host: "127.0.0.1", port: 30001)
        let b = RedisNodeAddress(host: "127.0.0.1", port: 30002)
        let c = RedisNodeAddress(host: "127.0.0.1", port: 30003)
        #expect(map.masters == [a, b, c])
        #expect(map.master(forSlot: 0) == a)
        #expect(map.master(forSlot: 5460) == a)
        #expect(map.master(forSlot: 5461) == b)
        #expect(map.master(forSlot: 16383) == c)
        #expect(map.master(forSlot: 16384) == nil)
        #expect(map.master(forSlot: -1) == nil)
        #expect(map.master(forKey: Array("foo".utf8)) == c)  // slot 12182
        #expect(map.coversAllSlots)
        #expect(!map.isEmpty)
    }

    @Test func aMapIsEmptyUntilASlotHasAMaster() {
        var map = RedisSlotMap()
        #expect(map.isEmpty)
        map.assign(slot: 7, to: RedisNodeAddress(host: "127.0.0.1", port: 30001))
        #expect(!map.isEmpty)
        map.assign(slot: 7, to: RedisNodeAddress(host: "127.0.0.1", port: 30002))
        #expect(!map.isEmpty)
    }

    @Test func aMasterWithSeveralRangesAppearsOnce() throws {
        let reply = RedisReply.array([
            range(0, 99, node(bulk("127.0.0.1"), 30001)),
            range(100, 100, node(bulk("127.0.0.1"), 30002)),
            range(101, 16383, node(bulk("127.0.0.1"), 30001)),
        ])
        let map = try RedisSlotMap(clusterSlotsReply: reply, from: replier)
        #expect(map.masters == [RedisNodeAddress(host: "127.0.0.1", port: 30001), RedisNodeAddress(host: "127.0.0.1", port: 30002)])
        #expect(map.master(forSlot: 100)?.port == 30002)
        #expect(map.master(forSlot: 101)?.port == 30001)
    }

    @Test func emptyOrNullHostMeansTheNodeWeAsked() throws {
        // A 7.0 node that has met no other answers `[0, 100, ["", 27301, id, []]]`: it does not know its own IP.
        let reply = RedisReply.array([
            range(0, 8000, node(bulk(""), 7001)),
            range(8001, 16383, node(.null, 7002)),
        ])
        let map = try RedisSlotMap(clusterSlotsReply: reply, from: replier)
        #expect(map.masters == [RedisNodeAddress(host: "10.0.0.9", port: 7001), RedisNodeAddress(host: "10.0.0.9", port: 7002)])
    }

    @Test func unknownEndpointLeavesItsSlotsUnassigned() throws {
        let reply = RedisReply.array([
            range(0, 8000, node(bulk("?"), 7001)),
            range(8001, 16383, node(bulk("redis-2.internal"), 7002)),
        ])
        let map = try RedisSlotMap(clusterSlotsReply: reply, from: replier)
        #expect(map.master(forSlot: 0) == nil)
        #expect(map.master(forSlot: 8001) == RedisNodeAddress(host: "redis-2.internal", port: 7002))
        #expect(map.coversAllSlots == false)
    }

    @Test func missingSlotsAreHoles() throws {
        let map = try RedisSlotMap(clusterSlotsReply: .array([range(0, 10, node(bulk("127.0.0.1"), 1))]), from: replier)
        #expect(map.master(forSlot: 11) == nil)
        #expect(map.coversAllSlots == false)
        #expect(try RedisSlotMap(clusterSlotsReply: .array([]), from: replier).masters.isEmpty)
    }

    @Test func ipv6Hosts() throws {
        let map = try RedisSlotMap(clusterSlotsReply: .array([range(0, 16383, node(bulk("::1"), 7000))]), from: replier)
        #expect(map.masters == [RedisNodeAddress(host: "::1", port: 7000)])
        #expect(map.masters.first?.description == "[::1]:7000")
    }

    @Test func movedPatchesOneSlot() throws {
        var map = try RedisSlotMap(clusterSlotsReply: threeMastersReply, from: replier)
        let d = RedisNodeAddress(host: "127.0.0.1", port: 30007)
        #expect(map.assign(slot: 12182, to: d) == true)
        #expect(map.master(forSlot: 12182) == d)
        #expect(map.master(forSlot: 12181)?.port == 30003)
        #expect(map.masters.map(\.port) == [30001, 30002, 30003, 30007])
        #expect(map.assign(slot: 16384, to: d) == false)
        #expect(map.assign(slot: -1, to: d) == false)
    }

    @Test func aMasterThatLosesAllItsSlotsLeavesTheList() throws {
        var map = try RedisSlotMap(clusterSlotsReply: .array([
            range(0, 0, node(bulk("127.0.0.1"), 1)),
            range(1, 16383, node(bulk("127.0.0.1"), 2)),
        ]), from: replier)
        map.assign(slot: 0, to: RedisNodeAddress(host: "127.0.0.1", port: 2))
        #expect(map.masters == [RedisNodeAddress(host: "127.0.0.1", port: 2)])
        #expect(map.coversAllSlots)
    }

    @Test func endlessMovedToNewNodesStaysBounded() {
        // A peer naming a new node in every MOVED must not grow the map without bound (or overflow its indexes).
        var map = RedisSlotMap()
        for i in 0..<70_000 {
            map.assign(slot: i % 3, to: RedisNodeAddress(host: "h\(i)", port: 1 + i % 60_000))
        }
        #expect(map.masters.count == 3)
        #expect(map.master(forSlot: 0) == RedisNodeAddress(host: "h69999", port: 1 + 69_999 % 60_000))
    }

    @Test func equalityIsAboutSlotsNotStorage() throws {
        var a = RedisSlotMap()
        a.assign(slot: 1, to: RedisNodeAddress(host: "x", port: 1))
        a.assign(slot: 1, to: RedisNodeAddress(host: "y", port: 2))
        var b = RedisSlotMap()
        b.assign(slot: 1, to: RedisNodeAddress(host: "y", port: 2))
        #expect(a == b)
        b.assign(slot: 2, to: RedisNodeAddress(host: "y", port: 2))
        #expect(a != b)
    }

    @Test func errorsAreTyped() {
        func parse(_ reply: RedisReply) -> RedisSlotMap.ParseError? {
            do {
                _ = try RedisSlotMap(clusterSlotsReply: reply, from: replier)
                return nil
            } catch {
                return error
            }
        }
        let ok = node(bulk("127.0.0.1"), 7000)
        #expect(parse(.error("ERR This instance has cluster support disabled"))
            == .errorReply("ERR This instance has cluster support disabled"))
        #expect(parse(.null) == .notAnArray)
        #expect(parse(.bulk([])) == .notAnArray)
        #expect(parse(.array([.integer(1)])) == .malformedRange(index: 0))
        #expect(parse(.array([.array([.integer(0), .integer(1)])])) == .malformedRange(index: 0))
        #expect(parse(.array([.array([bulk("0"), .integer(1), ok])])) == .malformedRange(index: 0))
        #expect(parse(.array([range(0, 16384, ok)])) == .slotOutOfRange(index: 0))
        #expect(parse(.array([range(-1, 5, ok)])) == .slotOutOfRange(index: 0))
        #expect(parse(.array([range(9, 5, ok)])) == .slotOutOfRange(index: 0))
        #expect(parse(.array([range(0, 5, .integer(3))])) == .malformedNode(index: 0))
        #expect(parse(.array([range(0, 5, .array([bulk("h")]))])) == .malformedNode(index: 0))
        #expect(parse(.array([range(0, 5, node(bulk("h"), 0))])) == .malformedNode(index: 0))
        #expect(parse(.array([range(0, 5, node(bulk("h"), 65536))])) == .malformedNode(index: 0))
        #expect(parse(.array([range(0, 5, node(.integer(1), 7000))])) == .malformedNode(index: 0))
        #expect(parse(.array([range(6, 9, ok), range(0, 6, ok)])) == .overlappingRange(index: 0))
        #expect(parse(.array([range(0, 6, ok), range(6, 9, ok)])) == .overlappingRange(index: 1))
    }
}
