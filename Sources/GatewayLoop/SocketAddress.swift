#if canImport(Glibc)
import Glibc
#endif
import GatewayCore

/// An IPv4 or IPv6 socket address parsed from `host:port` or `[v6]:port`.
public struct SocketAddress: Sendable, CustomStringConvertible {
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

    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    public var port: Int {
        var s = storage
        return withUnsafeBytes(of: &s) { raw in
            if family == AF_INET6 {
                return Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
            }
            return Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
        }
    }

    /// The numeric host alone (for `X-Forwarded-For`).
    public var ipString: String {
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
        family == AF_INET6 ? "[\(ipString)]:\(port)" : "\(ipString):\(port)"
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var s = storage
        return withUnsafePointer(to: &s) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
