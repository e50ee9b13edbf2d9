#if canImport(Glibc)
import Glibc
#endif

extension SocketAddress {
    /// Resolves `host:port` (numeric or a name, via getaddrinfo; blocking, so only at config load) or `unix:/path`.
    public static func resolve(_ text: String) throws(ParseError) -> SocketAddress {
        if text.hasPrefix("unix:") { return try SocketAddress(unixPath: String(text.dropFirst(5))) }
        if let numeric = try? SocketAddress(parsing: text) { return numeric }
        guard let colon = text.lastIndex(of: ":"), !text.hasPrefix("[") else { throw .invalid(text) }
        let host = String(text[..<colon])
        let port = String(text[text.index(after: colon)...])
        guard !host.isEmpty, let p = UInt16(port) else { throw .invalid(text) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(p), &hints, &res) == 0, let first = res else { throw .invalid(text) }
        defer { freeaddrinfo(res) }
        var ss = sockaddr_storage()
        let len = first.pointee.ai_addrlen
        guard let addr = first.pointee.ai_addr else { throw .invalid(text) }
        withUnsafeMutableBytes(of: &ss) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: addr, count: Int(len)))
        }
        return SocketAddress(storage: ss, length: len)
    }
}

/// Looks a host name up: every stream address it has for `port`, or nil when the lookup fails. Blocks (getaddrinfo),
/// so it runs at config load or on a background queue, never on a loop.
public typealias NameResolver = @Sendable (_ host: String, _ port: Int) -> [SocketAddress]?

extension SocketAddress {
    /// The system's `NameResolver`: getaddrinfo, every answer in its order, duplicates dropped.
    public static let systemResolver: NameResolver = { host, port in
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0 else { return nil }
        defer { freeaddrinfo(res) }
        var found: [SocketAddress] = []
        var next = res
        while let info = next {
            next = info.pointee.ai_next
            guard let addr = info.pointee.ai_addr, Int(info.pointee.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size else { continue }
            var ss = sockaddr_storage()
            withUnsafeMutableBytes(of: &ss) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: addr, count: Int(info.pointee.ai_addrlen)))
            }
            let a = SocketAddress(storage: ss, length: info.pointee.ai_addrlen)
            if !found.contains(a) { found.append(a) }
        }
        return found.isEmpty ? nil : found
    }
}
