/// ALPN protocol lists in the TLS wire form (each name prefixed by its one-byte length).
enum ALPN {
    /// Encodes names for the wire; names must be 1...255 bytes.
    static func wireFormat(_ names: [String]) throws(TLSError) -> [UInt8] {
        var wire: [UInt8] = []
        for name in names {
            let bytes = Array(name.utf8)
            guard (1...255).contains(bytes.count) else {
                throw TLSError(reason: "ALPN protocol name must be 1 to 255 bytes: \"\(name)\"")
            }
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        return wire
    }

    /// Picks the first of `preferred` that the client offered in `offered` (wire form);
    /// returns the offset and length of that name inside `offered`, since OpenSSL wants a pointer into it.
    static func select(preferred: [[UInt8]], offered: UnsafeBufferPointer<UInt8>) -> (offset: Int, length: Int)? {
        var names: [(offset: Int, length: Int)] = []
        var index = 0
        while index < offered.count {
            let length = Int(offered[index])
            let start = index + 1
            // A malformed list (length past the end) is treated as offering nothing.
            guard length > 0, start + length <= offered.count else { return nil }
            names.append((start, length))
            index = start + length
        }
        for candidate in preferred {
            for name in names where name.length == candidate.count {
                if offered[name.offset..<(name.offset + name.length)].elementsEqual(candidate) {
                    return name
                }
            }
        }
        return nil
    }
}
