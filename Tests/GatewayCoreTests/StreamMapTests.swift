import GatewayCore
import Testing
import TestSupport

@Suite("StreamMap")
struct StreamMapTests {
    final class Box: Equatable {
        let n: Int32
        init(_ n: Int32) { self.n = n }
        static func == (a: Box, b: Box) -> Bool { a === b }
    }

    /// Replays `ops` on a StreamMap and on a Dictionary and checks both agree after every step.
    static func checkAgainstDictionary(_ ops: [(insert: Bool, key: Int32)], capacity: Int = 4) {
        var map = StreamMap<Box>(capacity: capacity)
        var model: [Int32: Box] = [:]
        for (step, op) in ops.enumerated() {
            if op.insert {
                let b = Box(op.key)
                map[op.key] = b
                model[op.key] = b
            } else {
                let removed = map.removeValue(forKey: op.key)
                let expected = model.removeValue(forKey: op.key)
                #expect(removed === expected, "step \(step): remove \(op.key)")
            }
            #expect(map.count == model.count, "step \(step)")
            for (k, v) in model { #expect(map[k] === v, "step \(step): key \(k)") }
        }
        #expect(Set(map.allKeys) == Set(model.keys))
    }

    @Test("consecutive client stream ids: insert, look up, remove in any order")
    func consecutiveIds() {
        var ops: [(Bool, Int32)] = []
        for id in stride(from: Int32(1), to: 201, by: 2) { ops.append((true, id)) }
        for id in stride(from: Int32(1), to: 201, by: 6) { ops.append((false, id)) }
        for id in stride(from: Int32(201), to: 301, by: 2) { ops.append((true, id)) }
        for id in stride(from: Int32(299), to: 0, by: -2) { ops.append((false, id)) }
        StreamMapTests.checkAgainstDictionary(ops.map { (insert: $0.0, key: $0.1) })
    }

    @Test("ids that share a home slot (a long-lived stream and much newer ones) survive removals around them")
    func collidingIds() {
        // Capacity 4 gives 8 slots: ids 16 apart (>> 1: 8 apart) share a home slot.
        let ids: [Int32] = [1, 17, 33, 3, 49, 19, 5, 65]
        var ops = ids.map { (insert: true, key: $0) }
        ops += [(false, 17), (false, 1), (true, 81), (false, 49), (false, 3), (true, 97), (false, 33), (false, 65)]
        StreamMapTests.checkAgainstDictionary(ops, capacity: 4)
    }

    @Test("random operations agree with a Dictionary (wrap-around probes, growth, backward-shift deletion)")
    func randomAgainstDictionary() {
        var rng = SplitMix64(seed: 0x5EED)
        for round in 0..<20 {
            var ops: [(insert: Bool, key: Int32)] = []
            let span = Int32(8 + round * 16)
            for _ in 0..<400 {
                let key = Int32(truncatingIfNeeded: rng.next() % UInt64(span)) * 2 + 1
                ops.append((insert: rng.next() % 3 != 0, key: key))
            }
            StreamMapTests.checkAgainstDictionary(ops, capacity: 2)
        }
    }

    @Test("replacing a value keeps one entry; stream 0 and negative ids are never stored")
    func replaceAndInvalidKeys() {
        var map = StreamMap<Box>()
        let a = Box(1), b = Box(2)
        map[7] = a
        map[7] = b
        #expect(map.count == 1)
        #expect(map[7] === b)
        map[0] = a
        map[-3] = a
        #expect(map.count == 1)
        #expect(map[0] == nil)
        #expect(map[-3] == nil)
        #expect(map.removeValue(forKey: 0) == nil)
        map[7] = nil
        #expect(map.isEmpty)
        map[9] = a
        map.removeAll()
        #expect(map.isEmpty)
        #expect(map[9] == nil)
    }
}
