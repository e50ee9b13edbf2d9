/// The servers of one upstream an exchange has already tried: a bit mask, so the usual case allocates nothing.
struct TriedServers {
    private var low: UInt64 = 0
    /// Indices past 63 (an upstream with that many servers is rare).
    private var high: Set<Int> = []

    func contains(_ i: Int) -> Bool {
        i < 64 ? low & (1 << UInt64(i)) != 0 : high.contains(i)
    }

    mutating func insert(_ i: Int) {
        if i < 64 { low |= 1 << UInt64(i) } else { high.insert(i) }
    }

    mutating func removeAll() {
        low = 0
        if !high.isEmpty { high.removeAll() }
    }
}
