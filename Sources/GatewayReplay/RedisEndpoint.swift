/// Where a Redis replay store connects: parsed from `redis://[[user]:password@]host[:port][/db]`.
public struct RedisEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var database: Int
    public var user: String?
    public var password: String?

    public init(host: String, port: Int = 6379, database: Int = 0, user: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
    }

    /// Parses a `redis://` URL; userinfo is percent-decoded, `[::1]` brackets are removed from IPv6 hosts.
    public init(url: String) throws(ReplayStoreError) {
        let scheme = "redis://"
        guard url.lowercased().hasPrefix(scheme) else { throw .invalidRedisURL(reason: "scheme must be redis://") }
        let rest = Substring(url.utf8.dropFirst(scheme.utf8.count))
        let authority: Substring
        let path: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        } else {
            authority = rest
            path = ""
        }
        var hostPort = authority
        var user: String?
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let u = try Self.percentDecoded(userinfo[..<colon])
                user = u.isEmpty ? nil : u
                password = try Self.percentDecoded(userinfo[userinfo.index(after: colon)...])
            } else {
                password = try Self.percentDecoded(userinfo)
            }
        }
        var host: Substring
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw .invalidRedisURL(reason: "unclosed [ in host") }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidRedisURL(reason: "unexpected text after ]") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { throw .invalidRedisURL(reason: "missing host") }
        var port = 6379
        if let portText {
            guard let p = Self.number(portText), (1...65535).contains(p) else {
                throw .invalidRedisURL(reason: "port must be 1-65535")
            }
            port = p
        }
        var database = 0
        if !path.isEmpty {
            guard let db = Self.number(path), db <= 1_000_000 else {
                throw .invalidRedisURL(reason: "database must be a number after /")
            }
            database = db
        }
        self.init(host: String(host), port: port, database: database, user: user, password: password)
    }

    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 7, text.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
        return Int(text)
    }

    private static func percentDecoded(_ text: Substring) throws(ReplayStoreError) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let b = utf8.next() {
            guard b == UInt8(ascii: "%") else { bytes.append(b); continue }
            guard let hi = utf8.next().flatMap(hexValue), let lo = utf8.next().flatMap(hexValue) else {
                throw .invalidRedisURL(reason: "bad percent-encoding in user info")
            }
            bytes.append(hi << 4 | lo)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

private func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
    default: nil
    }
}

extension RedisEndpoint: CustomStringConvertible {
    /// `host:port/db`, never the password.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(h):\(port)/\(database)"
    }
}
