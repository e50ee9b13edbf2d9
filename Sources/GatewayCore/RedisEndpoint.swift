/// Where a Redis replay store connects and how it logs in: the one reading of `replay.redis.url`, used both by
/// `check` (GatewayConfig) and by the store (GatewayReplay), so the two can never disagree about a URL.
///
/// Its textual forms (`description`, `debugDescription`, the `Mirror` that `dump` walks) never show the password.
public struct RedisEndpoint: Sendable, Equatable {
    /// The server's host without brackets: `cache.internal`, `127.0.0.1`, `::1`.
    public var host: String
    /// 1...65535; 6379 when the URL has none.
    public var port: Int
    /// The database selected after login (`SELECT db`); 0 when the URL has no path.
    public var database: Int
    /// The ACL user for `AUTH username password`; nil sends `AUTH password` (the `default` user).
    public var username: String?
    /// The password for `AUTH`, as raw bytes; nil sends no `AUTH` at all.
    public var password: [UInt8]?

    /// Makes an endpoint from its parts.
    public init(host: String, port: Int = 6379, database: Int = 0, username: String? = nil, password: [UInt8]? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }

    /// The largest database number accepted; Redis itself has 16 unless `databases` says otherwise.
    public static let maxDatabase = 99_999

    /// Parses `redis://[[user]:password@]host[:port][/db]`; user and password are percent-decoded and a `[v6]` host
    /// loses its brackets. The error never quotes the URL, since the URL may hold the password.
    public init(url: String) throws(RedisURLError) {
        let scheme = Self.scheme(of: url)
        guard let scheme else { throw .notARedisURL }
        switch scheme {
        case "redis": break
        case "rediss", "redis+sentinel", "redis+cluster", "rediss+sentinel", "rediss+cluster":
            throw .unsupportedScheme(scheme)
        default: throw .notARedisURL
        }
        let rest = Substring(url.utf8.dropFirst(scheme.utf8.count + 3))
        if rest.contains("?") || rest.contains("#") { throw .options }
        let authority: Substring
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        } else {
            authority = rest
        }
        var hostPort = authority
        var username: String?
        var password: [UInt8]?
        // The last `@`: a password may itself contain a raw `@` (percent-encoding it is only recommended).
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            guard let colon = userinfo.firstIndex(of: ":") else { throw .userinfo }
            let user = try Self.percentDecoded(userinfo[..<colon])
            let secret = try Self.percentDecoded(userinfo[userinfo.index(after: colon)...])
            guard !secret.isEmpty else { throw .userinfo }
            username = user.isEmpty ? nil : String(decoding: user, as: UTF8.self)
            password = secret
        }
        let (host, port) = try Self.hostAndPort(hostPort)
        var database = 0
        if !path.isEmpty {
            guard path.count <= 5, path.allSatisfy({ $0 >= "0" && $0 <= "9" }), let db = Int(path), db <= Self.maxDatabase else {
                throw .database
            }
            database = db
        }
        self.init(host: host, port: port, database: database, username: username, password: password)
    }

    /// The scheme before `://`, lower-cased; nil when there is none or it is not made of scheme characters (then
    /// it is not quoted: the text might be a password typed without a scheme).
    private static func scheme(of url: String) -> String? {
        guard let end = url.firstRange(of: "://") else { return nil }
        let scheme = url[..<end.lowerBound]
        guard !scheme.isEmpty, scheme.count <= 32, scheme.unicodeScalars.allSatisfy(isSchemeScalar) else { return nil }
        return scheme.lowercased()
    }

    private static func isSchemeScalar(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "+"
    }

    private static func hostAndPort(_ text: Substring) throws(RedisURLError) -> (String, Int) {
        let host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .host }
            host = text[text.index(after: text.startIndex)..<close]
            guard HostPort.isIPv6Literal(host) else { throw .host }
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .host }
                portText = after.dropFirst()
            }
        } else {
            if let colon = text.lastIndex(of: ":") {
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            } else {
                host = text
            }
            guard HostPort.isHostName(host) else { throw .host }
        }
        var port = 6379
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0 >= "0" && $0 <= "9" }),
                  let p = Int(portText), (1...65535).contains(p) else { throw .port }
            port = p
        }
        return (String(host), port)
    }

    private static func percentDecoded(_ text: Substring) throws(RedisURLError) -> [UInt8] {
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let b = utf8.next() {
            guard b == UInt8(ascii: "%") else { bytes.append(b); continue }
            guard let hi = utf8.next().flatMap(hexValue), let lo = utf8.next().flatMap(hexValue) else { throw .userinfo }
            bytes.append(hi << 4 | lo)
        }
        return bytes
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

extension RedisEndpoint: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `host:port/db`, with `user@` when there is a username; never the password.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(username.map { "\($0)@" } ?? "")\(h):\(port)/\(database)"
    }

    public var debugDescription: String { description + (password == nil ? "" : " (password redacted)") }

    /// `dump` and debuggers walk stored properties; the password shows only as whether there is one.
    public var customMirror: Mirror {
        Mirror(self, children: ["host": host, "port": port, "database": database, "username": username as Any,
                                "password": password == nil ? "none" : "(redacted)"], displayStyle: .struct)
    }
}

/// Why `replay.redis.url` was refused; no case carries any part of the URL other than a known scheme name.
public enum RedisURLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A scheme the contract names (`rediss`, `redis+sentinel`, ...) that the store cannot speak yet.
    case unsupportedScheme(String)
    /// No `redis://` at the start.
    case notARedisURL
    /// User info that is not `:password` or `user:password`, or bad percent-encoding in it.
    case userinfo
    /// A host that is not a name, an IPv4 address or a bracketed IPv6 address.
    case host
    /// A port that is not a number in 1-65535.
    case port
    /// A path that is not one database number.
    case database
    /// `?...` or `#...`: no URL options are read, so none may be given.
    case options

    public var description: String {
        switch self {
        case .unsupportedScheme(let scheme):
            "\(scheme):// is not supported yet (only redis://[[user]:password@]host[:port][/db])"
        case .notARedisURL: "must be redis://[[user]:password@]host[:port][/db]"
        case .userinfo: "user info must be ':password' or 'user:password' with a non-empty password, percent-encoded"
        case .host: "host must be a name, an IPv4 address or an [IPv6] address"
        case .port: "port must be 1-65535"
        case .database: "database must be a number 0-\(RedisEndpoint.maxDatabase) after '/'"
        case .options: "options after '?' or '#' are not supported"
        }
    }
}
