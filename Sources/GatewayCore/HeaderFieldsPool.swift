/// Emptied `HTTPHeaders` whose arrays keep their memory, for the next heads parsed or assembled on the same loop:
/// two allocations fewer per head. Last in, first out, so the memory reused is the memory touched last (still in
/// cache). One per loop; not thread-safe.
public final class HeaderFieldsPool {
    /// How many spares are kept; more heads than this at once allocate their own.
    public static let capacity = 64
    /// Largest byte array a spare may keep: a rare huge head should not pin its memory.
    public static let maxBytes = 16 * 1024

    /// The spares, most recent last (read by tests).
    public private(set) var spares: [HTTPHeaders] = []

    public init() {}

    public var count: Int { spares.count }

    /// Keeps `fields`, emptied, unless the pool is full or they hold too much memory.
    public func give(_ fields: consuming HTTPHeaders) {
        guard spares.count < Self.capacity, fields.storageCapacity <= Self.maxBytes else { return }
        var f = consume fields
        f.removeAllKeepingCapacity()
        spares.append(consume f)
    }

    /// The most recently given spare, empty; nil when there is none.
    public func take() -> HTTPHeaders? { spares.popLast() }
}
