/// Reading `replay.redis.url`: the six schemes, the node list, the Sentinel master and the database.
extension RedisEndpoint {
    /// Parses `redis[s]://[[user]:pw@]host[:port][/db]`, `redis[s]+sentinel://[[user]:pw@]h1[:26379],h2/MASTER[/db]`
    /// and `redis[s]+cluster://[[user]:pw@]n1[:6379],n2[/0]`. User and password are percent-decoded and are for the
    /// data nodes (Sentinels get no `AUTH`); a `[v6]` host loses its brackets. The error never quotes the URL, since
    /// the URL may hold the password.
    public init(url: String) throws(RedisURLError) {
        guard let scheme = Self.scheme(of: url) else { throw .notARedisURL }
        let family: Family
        let tls: Bool
        switch scheme {
        case "redis": (family, tls) = (.standalone, false)
        case "rediss": (family, tls) = (.standalone, true)
        case "redis+sentinel": (family, tls) = (.sentinel, false)
        case "rediss+sentinel": (family, tls) = (.sentinel, true)
        case "redis+cluster": (family, tls) = (.cluster, false)
        case "rediss+cluster": (family, tls) = (.cluster, true)
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
        var hostList = authority
        var username: String?
        var password: [UInt8]?
        // The last `@`: a password may itself contain a raw `@` (percent-encoding it is only recommended).
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            hostList = authority[authority.index(after: at)...]
            guard let colon = userinfo.firstIndex(of: ":") else { throw .userinfo }
            let user = try Self.percentDecoded(userinfo[..<colon])
            let secret = try Self.percentDecoded(userinfo[userinfo.index(after: colon)...])
            guard !secret.isEmpty else { throw .userinfo }
            username = user.isEmpty ? nil : String(decoding: user, as: UTF8.self)
            password = secret
        }
        let defaultPort = family == .sentinel ? 26379 : 6379
        var nodes: [RedisNodeAddress] = []
        for text in hostList.split(separator: ",", omittingEmptySubsequences: false) {
            let node = try Self.node(text, defaultPort: defaultPort)
            if nodes.contains(where: { $0.isSameNode(as: node) }) { throw .duplicateNode(position: nodes.count + 1) }
            nodes.append(node)
        }
        // `split` never returns an empty list, so there is a first node; the guard only satisfies the type checker.
        guard let first = nodes.first else { throw .host }
        if family == .standalone, nodes.count > 1 { throw .severalNodes }
        let mode: RedisMode
        var database = 0
        switch family {
        case .standalone:
            database = try Self.database(path)
            mode = .standalone
        case .sentinel:
            let master: Substring
            if let slash = path.firstIndex(of: "/") {
                master = path[..<slash]
                database = try Self.database(path[path.index(after: slash)...])
            } else {
                master = path
            }
            guard Self.isMasterName(master) else { throw .masterName }
            mode = .sentinel(master: String(master))
        case .cluster:
            guard path.isEmpty || path == "0" else { throw .clusterDatabase }
            mode = .cluster
        }
        self.init(host: first.host, port: first.port, database: database, username: username, password: password,
                  tls: tls, mode: mode, moreNodes: Array(nodes.dropFirst()))
    }

    /// What the scheme says the nodes are, before the path is read.
    private enum Family { case standalone, sentinel, cluster }

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

    /// A Sentinel master name: Redis accepts almost anything, but only these characters survive logs and configs
    /// unquoted.
    private static func isMasterName(_ name: Substring) -> Bool {
        !name.isEmpty && name.utf8.count <= maxMasterNameLength && name.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "." || c == "-" || c == "_"
        }
    }

    /// An empty path is database 0 (so is `/` alone).
    private static func database(_ path: Substring) throws(RedisURLError) -> Int {
        guard !path.isEmpty else { return 0 }
        guard path.count <= 5, path.allSatisfy({ $0 >= "0" && $0 <= "9" }), let db = Int(path), db <= maxDatabase else {
            throw .database
        }
        return db
    }

    private static func node(_ text: Substring, defaultPort: Int) throws(RedisURLError) -> RedisNodeAddress {
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
        var port = defaultPort
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0 >= "0" && $0 <= "9" }),
                  let p = Int(portText), (1...65535).contains(p) else { throw .port }
            port = p
        }
        return RedisNodeAddress(host: String(host), port: port)
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
