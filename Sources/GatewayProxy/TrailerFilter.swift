import GatewayConfig
import GatewayCore

/// Trailers pass through minus the fields that frame, route or authenticate a message.
package enum TrailerFilter {
    /// RFC 9110 6.5.1: a recipient may merge trailers into the header section only when it knows that is safe;
    /// these are the fields whose late arrival could reframe, reroute or re-authenticate a message.
    private static let forbidden = ["content-length", "transfer-encoding", "host", "authorization", "trailer", "connection",
                                    "keep-alive", "te", "upgrade", "proxy-authorization", "x-forwarded-for",
                                    "x-forwarded-host", "x-forwarded-proto", "forwarded", "x-request-id", "cookie", "set-cookie",
                                    "www-authenticate", "proxy-authenticate", "authentication-info", "proxy-authentication-info"]

    package static func filtered(_ trailers: HTTPHeaders, identity: IdentityHeadersConfig) -> HTTPHeaders {
        var t = trailers
        // Folded like the field names, so a name configured with `_` is matched in either spelling too.
        let identityNames = [identity.shopDomain, identity.customerId, identity.staffUserId, identity.clientId]
            .filter { !$0.isEmpty }.map { $0.lowercased().replacingUnderscores() }
        t.removeAll { h, i in
            let n = h.name(i).lowercased()
            if forbidden.contains(n) { return true }
            return identityNames.contains(n.replacingUnderscores())
        }
        return t
    }
}

extension StringProtocol {
    /// Drops leading and trailing spaces and tabs (HTTP optional whitespace).
    func trimmingOWS() -> SubSequence {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }

    func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "-" : $0 })
    }
}
