import GatewayCore

/// What one pass over the client's fields found, so later steps need no further lookups.
struct HeaderScan {
    var origin: Int?
    var requestId: Int?
    var authorization: Int?
    var authorizationCount = 0
    var hasPreflightMethod = false
    /// The first `host` field, and how many there are (HTTP/2 refuses more than one, and one that contradicts
    /// `:authority`).
    var host: Int?
    var hostCount = 0
    var hasHost: Bool { host != nil }
    /// How many `cookie` fields there are: HTTP/2 clients may split the cookie into several (RFC 9113 8.2.3).
    var cookieCount = 0
    var hasForwardedFor = false
    /// An `Expect` field is present (rare: only then does the exchange look for it again).
    var hasExpect = false
    /// `Connection` lists `upgrade`.
    var connectionUpgrade = false
    /// An `Upgrade` field lists `websocket`.
    var upgradeWebSocket = false
    /// Storage ranges of `Connection` tokens other than `close`, `keep-alive` and `upgrade`: fields to drop.
    var connectionNamed: [Range<Int>] = []

    /// Borrowing: an initializer takes its arguments owned by default, and the fields' two arrays were retained for
    /// the call and released after it.
    init(_ headers: borrowing HTTPHeaders) {
        var connection: [Int] = []
        var upgrade: [Int] = []
        for i in 0..<headers.count {
            switch headers.nameRange(i).count {
            case 4:
                if headers.nameEquals(i, "host") {
                    if host == nil { host = i }
                    hostCount += 1
                }
            case 6:
                if headers.nameEquals(i, "origin") {
                    if origin == nil { origin = i }
                } else if headers.nameEquals(i, "cookie") {
                    cookieCount += 1
                } else if headers.nameEquals(i, "expect") {
                    hasExpect = true
                }
            case 7:
                if headers.nameEquals(i, "upgrade") { upgrade.append(i) }
            case 10:
                if headers.nameEquals(i, "connection") { connection.append(i) }
            case 12:
                if requestId == nil && headers.nameEquals(i, "x-request-id") { requestId = i }
            case 13:
                if headers.nameEquals(i, "authorization") {
                    if authorization == nil { authorization = i }
                    authorizationCount += 1
                }
            case 15:
                if headers.nameEquals(i, "x-forwarded-for") { hasForwardedFor = true }
            case 29:
                if headers.nameEquals(i, "access-control-request-method") { hasPreflightMethod = true }
            default:
                break
            }
        }
        if !connection.isEmpty || !upgrade.isEmpty { scanTokens(headers, connection: connection, upgrade: upgrade) }
    }

    private mutating func scanTokens(_ headers: HTTPHeaders, connection: [Int], upgrade: [Int]) {
        headers.storage.withUnsafeBufferPointer { s in
            for i in connection {
                HeaderScan.forEachToken(s, headers.valueRange(i)) { r in
                    if ASCII.equalsLower(s, r, "upgrade") {
                        connectionUpgrade = true
                    } else if !ASCII.equalsLower(s, r, "close") && !ASCII.equalsLower(s, r, "keep-alive") {
                        connectionNamed.append(r)
                    }
                }
            }
            for i in upgrade {
                HeaderScan.forEachToken(s, headers.valueRange(i)) { r in
                    if ASCII.equalsLower(s, r, "websocket") { upgradeWebSocket = true }
                }
            }
        }
    }

    /// Calls `body` with the range of each comma-separated, OWS-trimmed, non-empty element of `value`.
    static func forEachToken(_ s: UnsafeBufferPointer<UInt8>, _ value: Range<Int>, _ body: (Range<Int>) -> Void) {
        var start = value.lowerBound
        while start <= value.upperBound {
            var end = start
            while end < value.upperBound && s[end] != UInt8(ascii: ",") { end += 1 }
            var a = start
            var b = end
            while a < b && (s[a] == 0x20 || s[a] == 0x09) { a += 1 }
            while b > a && (s[b - 1] == 0x20 || s[b - 1] == 0x09) { b -= 1 }
            if a < b { body(a..<b) }
            start = end + 1
        }
    }
}
