import GatewayAuth
import GatewayConfig
import GatewayCore

/// Field names the gate removes from every forwarded request, folded once: lower case, `_` read as `-`.
struct HeaderNames: Sendable {
    /// Hop-by-hop and framing fields, identity fields, and the fields the gateway sets itself.
    let stripped: [[UInt8]]
    /// `stripped` grouped by length (index = name length, up to `maxStrippedLength`): a field is compared only
    /// with the names of its own length, not with all of them.
    let strippedByLength: [[[UInt8]]]
    static let maxStrippedLength = 64
    let authorization: [UInt8] = Array("authorization".utf8)
    let host: [UInt8] = Array("host".utf8)
    let forwardedFor: [UInt8] = Array("x-forwarded-for".utf8)

    init(identity: IdentityHeadersConfig) {
        let fixed = ["connection", "keep-alive", "proxy-connection", "te", "upgrade", "proxy-authorization",
                     "transfer-encoding", "content-length",
                     "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id"]
        let configured = [identity.shopDomain, identity.customerId, identity.staffUserId, identity.clientId]
            .filter { !$0.isEmpty }
        var all: [[UInt8]] = []
        for name in fixed + configured {
            let folded = HeaderNames.fold(Array(name.utf8))
            if !all.contains(folded) { all.append(folded) }
        }
        stripped = all
        var byLength = [[[UInt8]]](repeating: [], count: HeaderNames.maxStrippedLength + 1)
        for name in all where name.count <= HeaderNames.maxStrippedLength { byLength[name.count].append(name) }
        strippedByLength = byLength
    }

    /// Whether `s[r]` folds to one of `stripped`.
    @inline(__always)
    func isStripped(_ s: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        guard r.count <= HeaderNames.maxStrippedLength else {
            return stripped.contains { HeaderNames.matches(s, r, $0) }
        }
        for folded in strippedByLength[r.count] where HeaderNames.matches(s, r, folded) { return true }
        return false
    }

    /// Lower-cases ASCII and reads `_` as `-`, the way CGI-style backends (Rack, PHP) merge field names.
    static func fold(_ bytes: [UInt8]) -> [UInt8] { bytes.map(foldByte) }

    @inline(__always)
    static func foldByte(_ b: UInt8) -> UInt8 { b == UInt8(ascii: "_") ? UInt8(ascii: "-") : ASCII.lower(b) }

    /// True when `s[r]` folds to `folded`.
    @inline(__always)
    static func matches(_ s: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ folded: [UInt8]) -> Bool {
        guard r.count == folded.count else { return false }
        var k = 0
        for j in r {
            if foldByte(s[j]) != folded[k] { return false }
            k += 1
        }
        return true
    }

    /// True when `s[a]` and `s[b]` fold to the same name.
    static func sameFolded(_ s: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        var j = b.lowerBound
        for i in a {
            if foldByte(s[i]) != foldByte(s[j]) { return false }
            j += 1
        }
        return true
    }
}

extension RequestGate {
    /// Drops every field the backend must not get from the client: hop-by-hop and framing fields, fields the
    /// client's `Connection` names (except `Host`), identity fields in any case or `_` spelling, the fields the
    /// gateway sets itself, and `Authorization` when `forward_token` is false.
    func rewriteHeaders(_ headers: inout HTTPHeaders, scan: HeaderScan) {
        let names = self.names
        let stripAuthorization = !identity.forwardToken
        let named = scan.connectionNamed
        headers.removeAll { h, i in
            let r = h.nameRange(i)
            return h.storage.withUnsafeBufferPointer { s in
                if names.isStripped(s, r) { return true }
                if stripAuthorization && HeaderNames.matches(s, r, names.authorization) { return true }
                if !named.isEmpty && !HeaderNames.matches(s, r, names.host) {
                    for token in named where HeaderNames.sameFolded(s, r, token) { return true }
                }
                return false
            }
        }
    }

    /// The client's `X-Forwarded-For` values joined, unless its `Connection` made that field hop-by-hop.
    func priorForwardedFor(_ headers: HTTPHeaders, scan: HeaderScan) -> String? {
        guard scan.hasForwardedFor else { return nil }
        return priorValues(headers, scan: scan, name: "x-forwarded-for")
    }

    /// The values of the client's `name` fields joined by `, ` in order, unless its `Connection` made that field
    /// hop-by-hop; nil when there are none.
    func priorValues(_ headers: HTTPHeaders, scan: HeaderScan, name: String) -> String? {
        let folded = Array(name.utf8)
        let listed = headers.storage.withUnsafeBufferPointer { s in
            scan.connectionNamed.contains { HeaderNames.matches(s, $0, folded) }
        }
        if listed { return nil }
        var joined = ""
        for i in 0..<headers.count where headers.nameEquals(i, name) {
            let v = headers.valueBytes(i)
            guard !v.isEmpty else { continue }
            if !joined.isEmpty { joined += ", " }
            joined += String(decoding: v, as: UTF8.self)
        }
        return joined.isEmpty ? nil : joined
    }

    /// Replaces the `cookie` fields of an HTTP/2 head with one, values joined by `; ` (RFC 9113 8.2.3): HTTP/2
    /// clients split the cookie into crumbs for HPACK, but the upstream hop is HTTP/1.1, where a second `Cookie` line
    /// is not allowed (RFC 6265 5.4) and many servers read only the first. Empty crumbs add no separator.
    func joinCookies(_ headers: inout HTTPHeaders) {
        var joined: [UInt8] = []
        for i in 0..<headers.count where headers.nameEquals(i, "cookie") {
            let crumb = headers.valueBytes(i)
            guard !crumb.isEmpty else { continue }
            if !joined.isEmpty { joined += [UInt8(ascii: ";"), UInt8(ascii: " ")] }
            joined += crumb
        }
        headers.removeAll(named: "cookie")
        if !joined.isEmpty { headers.append(nameBytes: "cookie".utf8, valueBytes: joined) }
    }

    /// Adds what the gateway vouches for, after all removals so no client field can take it away.
    func injectHeaders(_ head: inout HTTPRequestHead, verdict: TokenVerdict?, webSocket: Bool, scan: HeaderScan,
                       client: ClientInfo, requestId: String) {
        // From a trusted proxy the forwarding fields carry on what it vouches for; from anyone else they are
        // replaced, so a client cannot plant an address, scheme or host the backend would believe.
        let trusted = client.peerTrusted
        let prior = trusted ? priorForwardedFor(head.headers, scan: scan) : nil
        let priorProto = trusted ? priorValues(head.headers, scan: scan, name: "x-forwarded-proto") : nil
        let priorHost = trusted ? priorValues(head.headers, scan: scan, name: "x-forwarded-host") : nil
        let hostValue = scan.hasHost ? head.headers.first(named: "host") : nil
        rewriteHeaders(&head.headers, scan: scan)
        if head.version == .http2 && scan.cookieCount > 1 { joinCookies(&head.headers) }

        if webSocket && head.version != .http2 {
            head.headers.append(name: "Connection", value: "upgrade")
            head.headers.append(name: "Upgrade", value: "websocket")
        }
        let authority = head.authority ?? hostValue
        if !scan.hasHost, let authority { head.headers.append(name: "Host", value: authority) }
        if let v = verdict {
            if !identity.shopDomain.isEmpty { head.headers.append(name: identity.shopDomain, value: v.shopDomain) }
            if !identity.customerId.isEmpty, let customer = customerValue(v) {
                head.headers.append(name: identity.customerId, value: customer)
            }
            if !identity.staffUserId.isEmpty, let staff = v.staffUserId {
                head.headers.append(name: identity.staffUserId, value: staff)
            }
            if !identity.clientId.isEmpty { head.headers.append(name: identity.clientId, value: v.clientId) }
        }
        if let prior {
            head.headers.append(name: "X-Forwarded-For", value: prior + ", " + client.remoteAddress)
        } else {
            head.headers.append(name: "X-Forwarded-For", value: client.remoteAddress)
        }
        head.headers.append(name: "X-Forwarded-Proto", value: priorProto ?? (client.isTLS ? "https" : "http"))
        if let host = priorHost ?? authority { head.headers.append(name: "X-Forwarded-Host", value: host) }
        head.headers.append(name: "X-Request-Id", value: requestId)
    }

    /// The customer id in the configured format; nil unless the token's `sub` was a customer GID.
    private func customerValue(_ v: TokenVerdict) -> String? {
        guard let gid = v.customerGID else { return nil }
        switch identity.customerIdFormat {
        case .gid:
            return gid
        case .numeric:
            if let digits = v.customerNumericId { return digits }
            guard let slash = gid.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
            let digits = Substring(gid.utf8[gid.utf8.index(after: slash)...])
            return digits.isEmpty ? nil : String(digits)
        }
    }
}
