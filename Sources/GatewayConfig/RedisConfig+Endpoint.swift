import GatewayCore

/// Folds `username` and `password` into the URL's endpoint, so `check` and the store refuse the same configs.
extension RedisConfig {
    /// Why `replay.redis` does not make an endpoint; no case carries the password or the URL.
    public enum EndpointProblem: Error, Equatable, Sendable, CustomStringConvertible {
        /// The URL itself (reported at `replay.redis.url`).
        case url(RedisURLError)
        /// A password in the URL and in `password` (reported at `replay.redis.password`).
        case passwordTwice
        /// A user in the URL and a non-empty `username` (reported at `replay.redis.username`).
        case usernameTwice
        /// A `username` with no password anywhere: `AUTH` needs one (reported at `replay.redis.username`).
        case usernameWithoutPassword
        /// `tls` settings with a URL that does not turn TLS on (reported at `replay.redis.tls`).
        case tlsWithoutRediss

        public var description: String {
            switch self {
            case .url(let problem): "invalid redis url: \(problem)"
            case .passwordTwice: "a password is given both in replay.redis.url and here; keep one (preferably this key)"
            case .usernameTwice: "a user is given both in replay.redis.url and here; keep one"
            case .usernameWithoutPassword: "needs a password (replay.redis.password or in the url): AUTH takes both"
            case .tlsWithoutRediss:
                "TLS settings need a TLS url: use rediss://, rediss+sentinel:// or rediss+cluster:// in replay.redis.url"
            }
        }
    }

    /// The endpoint the Redis store connects to: the URL's nodes, mode, TLS and db, with the login from the URL or
    /// from `username`/`password` (never both); `tls` settings need a `rediss*://` URL.
    public func endpoint() throws(EndpointProblem) -> RedisEndpoint {
        var endpoint: RedisEndpoint
        do {
            endpoint = try RedisEndpoint(url: url)
        } catch {
            throw .url(error)
        }
        if let password {
            guard endpoint.password == nil else { throw .passwordTwice }
            endpoint.password = password.bytes
        }
        if !username.isEmpty {
            guard endpoint.username == nil else { throw .usernameTwice }
            endpoint.username = username
        }
        if endpoint.username != nil, endpoint.password == nil { throw .usernameWithoutPassword }
        // Last, so that a login problem is still named when both are wrong.
        if tls != nil, !endpoint.tls { throw .tlsWithoutRediss }
        return endpoint
    }
}

/// `dump` and debuggers walk stored properties; the URL may hold a password, so it shows as the endpoint.
extension RedisConfig: CustomReflectable {
    /// The endpoint's redacted form in place of the URL, the password's source in place of its bytes.
    public var customMirror: Mirror {
        let shown: String
        do { shown = try endpoint().description } catch { shown = "(invalid: \(error))" }
        return Mirror(self, children: ["endpoint": shown, "username": username, "password": password as Any,
                                       "tls": tls as Any, "keyPrefix": keyPrefix, "timeout": timeout, "onUnavailable": onUnavailable],
                      displayStyle: .struct)
    }
}
