import GatewayCore
import Yams

/// `replay.redis`: the URL, the login keys and the TLS settings.
extension ConfigParser {
    func redis(_ node: Node, _ path: String) -> RedisConfig {
        var config = RedisConfig()
        let keys = ["url", "username", "password", "tls", "key_prefix", "timeout", "on_unavailable"]
        guard let f = fields(node, path, allowed: keys) else { return config }
        var parsedURL: RedisEndpoint?
        if let n = f["url"], let url = nonEmptyString(n, f.child("url")) {
            // The URL is never quoted back: it may hold a password.
            do throws(RedisURLError) {
                parsedURL = try RedisEndpoint(url: url)
                config.url = url
            } catch {
                self.error(n, f.child("url"), "\(error)")
            }
        } else if !f.has("url") {
            parsedURL = try? RedisEndpoint(url: config.url)
        }
        if let n = f["username"], let v = string(n, f.child("username")) { config.username = v }
        if let n = f["password"] { config.password = secret(n, f.child("password")) }
        if let n = f["tls"], !isNull(n) {
            config.tls = redisTLS(n, f.child("tls"))
            // Checked on the node rather than on `config.tls`, so it is said even when the section has errors of its own.
            if let parsedURL, !parsedURL.tls {
                self.error(n, f.child("tls"), "\(RedisConfig.EndpointProblem.tlsWithoutRediss)")
            }
        }
        if let n = f["key_prefix"], let v = string(n, f.child("key_prefix")) { config.keyPrefix = v }
        if let n = f["timeout"], let v = duration(n, f.child("timeout"), positive: true) { config.timeout = v }
        if let n = f["on_unavailable"], let v = choice(n, f.child("on_unavailable"), as: RedisUnavailablePolicy.self) {
            config.onUnavailable = v
        }
        // The same folding the store does, so a config `check` accepts always makes an endpoint.
        if parsedURL != nil {
            do throws(RedisConfig.EndpointProblem) {
                _ = try config.endpoint()
            } catch {
                switch error {
                case .url, .tlsWithoutRediss: break  // reported above
                case .passwordTwice: self.error(f["password"] ?? node, f.child("password"), "\(error)")
                case .usernameWithoutPassword where f.has("password"): break  // the password's own error says why
                case .usernameTwice, .usernameWithoutPassword:
                    self.error(f["username"] ?? node, f.child("username"), "\(error)")
                }
            }
        }
        return config
    }

    /// `{ca_file, certificate_chain, private_key, server_name}`, all optional; the chain and the key come together.
    func redisTLS(_ node: Node, _ path: String) -> RedisTLSConfig? {
        guard let f = fields(node, path, allowed: ["ca_file", "certificate_chain", "private_key", "server_name"]) else {
            return nil
        }
        var config = RedisTLSConfig()
        var valid = true
        func file(_ key: String, what: String) -> String? {
            guard let n = f[key] else { return nil }
            let path = readableFile(n, f.child(key), what: what)
            if path == nil { valid = false }
            return path
        }
        config.caFile = file("ca_file", what: "CA file")
        config.certificateChain = file("certificate_chain", what: "certificate chain file")
        config.privateKey = file("private_key", what: "private key file")
        if let n = f["server_name"] {
            config.serverName = serverName(n, f.child("server_name"))
            if config.serverName == nil { valid = false }
        }
        if f.has("certificate_chain") != f.has("private_key") {
            let (given, missing) = f.has("certificate_chain") ? ("certificate_chain", "private_key") : ("private_key", "certificate_chain")
            error(f.mark, f.child(missing), "missing '\(missing)': a client certificate needs both certificate_chain "
                + "and private_key (\(given) is given)")
            valid = false
        }
        return valid ? config : nil
    }

    /// A DNS name or an IP address (IPv6 without brackets), as a certificate's subjectAltName would carry it.
    private func serverName(_ node: Node, _ path: String) -> String? {
        guard let name = nonEmptyString(node, path) else { return nil }
        let brackets = name.contains("[") || name.contains("]")
        guard !brackets, HostPort.parse(name + ":1") != nil || HostPort.parse("[\(name)]:1") != nil else {
            error(node, path, "'\(name)' is not a DNS name or an IP address (write an IPv6 address without brackets, "
                + "and no port)")
            return nil
        }
        return name
    }
}
