/// A growable byte queue with a read index: written at the end, consumed from the front, compacted lazily.
public struct ByteBuffer: Sendable {
    public private(set) var bytes: [UInt8]
    public private(set) var readerIndex: Int = 0

    public init(capacity: Int = 0) {
        bytes = []
        // Not for 0: reserving nothing still went through the array's reallocation path (three times per HTTP/2
        // stream, for buffers that get their memory from a recycled one or on first write).
        if capacity > 0 { bytes.reserveCapacity(capacity) }
    }

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    // Inlinable: the proxy asks these on every event, and across modules each was a call.
    @inlinable public var readableBytes: Int { bytes.count - readerIndex }
    @inlinable public var isEmpty: Bool { readerIndex == bytes.count }

    public mutating func write<C: Collection>(_ data: C) where C.Element == UInt8 { bytes.append(contentsOf: data) }
    public mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }
    public mutating func write(_ ptr: UnsafeRawBufferPointer) { bytes.appendBytes(ptr) }

    /// Marks `n` readable bytes consumed.
    public mutating func consume(_ n: Int) {
        readerIndex += min(n, readableBytes)
        if readerIndex == bytes.count {
            bytes.removeAll(keepingCapacity: bytes.capacity <= 64 * 1024)
            readerIndex = 0
        } else if readerIndex > 64 * 1024 && readerIndex * 2 > bytes.count {
            bytes.removeSubrange(0..<readerIndex)
            readerIndex = 0
        }
    }

    public mutating func clear() {
        bytes.removeAll(keepingCapacity: bytes.capacity <= 64 * 1024)
        readerIndex = 0
    }

    /// Gives the readable bytes to `body` without copying. Inlinable, so each caller gets a specialized copy
    /// instead of the generic one reached through a closure context.
    @inlinable
    public func withReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { raw in try body(UnsafeRawBufferPointer(rebasing: raw[readerIndex...])) }
    }

    public var readableSlice: ArraySlice<UInt8> { bytes[readerIndex...] }
}
