#if canImport(Glibc)
import Glibc
#endif
import GatewayCore

/// An IPv4 or IPv6 socket address parsed from `host:port` or `[v6]:port`, or a Unix domain socket path.
public struct SocketAddress: Sendable, CustomStringConvertible, Hashable {
    public enum ParseError: Error, Sendable { case invalid(String) }

    var storage: sockaddr_storage
    public let length: socklen_t

    public var family: Int32 { Int32(storage.ss_family) }

    /// Parses a numeric `host:port`; `localhost` is taken as 127.0.0.1.
    public init(parsing text: String) throws(ParseError) {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { throw .invalid(text) }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .invalid(text) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = UInt16(portText) else { throw .invalid(text) }
        let bracketed = text.hasPrefix("[")
        // IPv6 needs brackets (`::1:80` is ambiguous) and brackets mean IPv6 (`[127.0.0.1]:80` is not an address).
        if !bracketed && host.contains(":") { throw .invalid(text) }
        if host == "localhost" && !bracketed { host = "127.0.0.1" }
        var ss = sockaddr_storage()
        let h = String(host)
        var v4 = in_addr()
        var v6 = in6_addr()
        if !bracketed && inet_pton(AF_INET, h, &v4) == 1 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr = v4
            withUnsafeBytes(of: sin) { src in withUnsafeMutableBytes(of: &ss) { $0.copyMemory(from: src) } }
            self.storage = ss
            self.length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if bracketed && inet_pton(AF_INET6, h, &v6) == 1 {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            sin6.sin6_addr = v6
            withUnsafeBytes(of: sin6) { src in withUnsafeMutableBytes(of: &ss) { $0.copyMemory(from: src) } }
            self.storage = ss
            self.length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            throw .invalid(text)
        }
    }

    /// The longest Unix socket path in bytes: `sun_path` less its terminating NUL (107 on Linux).
    public static let maxUnixPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// A Unix domain socket at `path` (absolute or relative to the working directory; no NUL; at most
    /// `maxUnixPathBytes` bytes).
    public init(unixPath path: String) throws(ParseError) {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maxUnixPathBytes, !bytes.contains(0) else { throw .invalid("unix:" + path) }
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &sun.sun_path) { dst in
            for (i, b) in bytes.enumerated() { dst[i] = b }
        }
        var ss = sockaddr_storage()
        withUnsafeBytes(of: sun) { src in withUnsafeMutableBytes(of: &ss) { $0.copyMemory(from: src) } }
        storage = ss
        length = socklen_t((MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? MemoryLayout<sa_family_t>.size) + bytes.count + 1)
    }

    /// True for a Unix domain socket.
    public var isUnix: Bool { family == AF_UNIX }

    /// The socket path of a Unix domain socket address, nil for IP.
    public var unixPath: String? {
        guard isUnix else { return nil }
        var s = storage
        return withUnsafeBytes(of: &s) { raw -> String in
            let sun = raw.load(as: sockaddr_un.self)
            return withUnsafeBytes(of: sun.sun_path) { path in
                String(decoding: path.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
    }

    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    /// The port; 0 for a Unix socket.
    public var port: Int {
        if isUnix { return 0 }
        var s = storage
        return withUnsafeBytes(of: &s) { raw in
            if family == AF_INET6 {
                return Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
            }
            return Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
        }
    }

    /// The numeric host alone (for `X-Forwarded-For`); `unix` for a Unix socket peer, which has no address.
    public var ipString: String {
        if isUnix { return "unix" }
        var s = storage
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        return withUnsafeBytes(of: &s) { raw -> String in
            if family == AF_INET6 {
                var a = raw.load(as: sockaddr_in6.self).sin6_addr
                inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count))
            } else {
                var a = raw.load(as: sockaddr_in.self).sin_addr
                inet_ntop(AF_INET, &a, &buf, socklen_t(buf.count))
            }
            return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    public var description: String {
        if let path = unixPath { return "unix:" + path }
        return family == AF_INET6 ? "[\(ipString)]:\(port)" : "\(ipString):\(port)"
    }

    public static func == (a: SocketAddress, b: SocketAddress) -> Bool {
        a.length == b.length && a.withBytes { x in b.withBytes { y in x.elementsEqual(y) } }
    }

    public func hash(into hasher: inout Hasher) {
        withBytes { hasher.combine(bytes: $0) }
    }

    /// The meaningful bytes of the address (`length` of them).
    private func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var s = storage
        return withUnsafeBytes(of: &s) { body(UnsafeRawBufferPointer(rebasing: $0[0..<Int(length)])) }
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var s = storage
        return withUnsafePointer(to: &s) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
