/// How a connection logs in: `AUTH` and `SELECT`, sent first on every connect because Redis forgets both.
public struct RedisLogin: Sendable {
    public var username: String?
    public var password: [UInt8]?
    public var database: Int

    public init(username: String? = nil, password: [UInt8]? = nil, database: Int = 0) {
        self.username = username
        self.password = password
        self.database = database
    }

    /// The commands, in order; each must answer `+OK`.
    var commands: [[[UInt8]]] {
        var out: [[[UInt8]]] = []
        if let password {
            var auth: [[UInt8]] = [Array("AUTH".utf8)]
            if let username { auth.append(Array(username.utf8)) }
            auth.append(password)
            out.append(auth)
        }
        if database != 0 { out.append([Array("SELECT".utf8), Array(String(database).utf8)]) }
        return out
    }
}
