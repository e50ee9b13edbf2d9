/// A `shops` allowlist entry: a lower-cased host pattern where `*` matches any run of characters (also empty, also dots).
struct ShopGlob: Sendable {
    let pattern: [UInt8]

    init(_ pattern: String) {
        self.pattern = Array(pattern.lowercased().utf8)
    }

    /// True when the whole `host` (already lower-cased) matches the whole pattern.
    func matches(_ host: String) -> Bool {
        var text = host
        return text.withUTF8 { bytes in pattern.withUnsafeBufferPointer { Self.match($0, bytes) } }
    }

    private static func match(_ pattern: UnsafeBufferPointer<UInt8>, _ host: UnsafeBufferPointer<UInt8>) -> Bool {
        // Iterative wildcard match: remember the last `*` and retry from one byte further on a mismatch.
        var p = 0, h = 0
        var star = -1, starHost = 0
        while h < host.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                starHost = h
                p += 1
            } else if p < pattern.count, pattern[p] == host[h] {
                p += 1
                h += 1
            } else if star >= 0 {
                p = star + 1
                starHost += 1
                h = starHost
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
