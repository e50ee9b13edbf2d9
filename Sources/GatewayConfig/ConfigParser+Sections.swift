import GatewayCore
import Yams

/// The document root, listeners, admin and apps.
extension ConfigParser {
    static let rootKeys = ["listeners", "admin", "apps", "token", "replay", "upstreams", "routes",
                           "identity_headers", "cors", "limits", "shutdown", "logging"]

    /// The whole document; nil when any error was found.
    func parseRoot(_ root: Node) -> GatewayConfig? {
        guard case .mapping = root else {
            error(root, "", "the document must be a mapping with keys \(Self.rootKeys.joined(separator: ", ")), found \(kind(root))")
            return nil
        }
        guard let f = fields(root, "", allowed: Self.rootKeys) else { return nil }
        var config = GatewayConfig()
        if let node = f["listeners"] { config.listeners = listeners(node, f.child("listeners")) ?? [] }
        config.admin = f["admin"].flatMap { admin($0, f.child("admin")) }
        if let node = f["apps"] { config.apps = apps(node, f.child("apps")) }
        if let node = f["token"] { config.token = token(node, f.child("token")) }
        if let node = f["replay"] { config.replay = replay(node, f.child("replay")) }
        if let node = f["upstreams"] { config.upstreams = upstreams(node, f.child("upstreams")) }
        let routeNodes = f["routes"].map { routes($0, f.child("routes")) } ?? []
        config.routes = routeNodes.map(\.route)
        if let node = f["identity_headers"] { config.identityHeaders = identityHeaders(node, f.child("identity_headers")) }
        if let node = f["cors"] { config.cors = cors(node, f.child("cors")) }
        if let node = f["limits"] { config.limits = limits(node, f.child("limits")) }
        if let node = f["shutdown"] { config.shutdown = shutdown(node, f.child("shutdown")) }
        if let node = f["logging"] { config.logging = logging(node, f.child("logging")) }
        crossCheck(config, root: f, routes: routeNodes)
        return hasErrors ? nil : config
    }

    // MARK: listeners

    func listeners(_ node: Node, _ path: String) -> [ListenerConfig]? {
        guard let items = sequence(node, path) else { return nil }
        guard !items.isEmpty else {
            error(node, path, "needs at least one listener")
            return nil
        }
        var result: [ListenerConfig] = []
        var seen: [HostPort: Int] = [:]
        for (i, item) in items.enumerated() {
            let itemPath = path.item(i)
            guard let f = fields(item, itemPath, allowed: ["address", "tls", "trusted_proxies", "proxy_protocol"]),
                  let addressNode = required(f, "address"),
                  let address = address(addressNode, f.child("address"), allowPortZero: true) else { continue }
            if address.port != 0, let first = seen[address] {
                error(addressNode, f.child("address"), "duplicate listener address \(address) (also listeners[\(first)])")
            }
            seen[address] = seen[address] ?? i
            var listener = ListenerConfig(address: address.description)
            if let tlsNode = f["tls"], !isNull(tlsNode) { listener.tls = listenerTLS(tlsNode, f.child("tls")) }
            if let node = f["trusted_proxies"], !isNull(node) {
                listener.trustedProxies = trustedProxies(node, f.child("trusted_proxies"))
            }
            if let node = f["proxy_protocol"], let on = bool(node, f.child("proxy_protocol")) { listener.proxyProtocol = on }
            result.append(listener)
        }
        return result
    }

    /// A list of CIDRs (a bare address is one host); each bad entry is reported at its own line and column.
    func trustedProxies(_ node: Node, _ path: String) -> TrustedProxies {
        guard let items = sequence(node, path) else { return TrustedProxies() }
        var ranges: [CIDR] = []
        for (i, item) in items.enumerated() {
            guard let text = nonEmptyString(item, path.item(i)) else { continue }
            do throws(CIDRError) {
                let cidr = try CIDR.parse(text)
                if !ranges.contains(cidr) { ranges.append(cidr) }
            } catch {
                self.error(item, path.item(i), error.description)
            }
        }
        return TrustedProxies(ranges)
    }

    /// `{certificate_chain, private_key}` or `{certificates: [{certificate_chain, private_key}, ...]}`, never both.
    func listenerTLS(_ node: Node, _ path: String) -> ListenerTLSConfig? {
        guard let f = fields(node, path, allowed: ["certificate_chain", "private_key", "certificates"]) else { return nil }
        let single = f.has("certificate_chain") || f.has("private_key")
        if single && f.has("certificates") {
            error(f.mark, path, "use either certificate_chain + private_key or certificates: [...], not both")
            return nil
        }
        if let list = f["certificates"] {
            guard let items = sequence(list, f.child("certificates")) else { return nil }
            guard !items.isEmpty else {
                error(list, f.child("certificates"), "needs at least one certificate")
                return nil
            }
            var certificates: [CertificateConfig] = []
            for (i, item) in items.enumerated() {
                let itemPath = f.child("certificates").item(i)
                if let itemFields = fields(item, itemPath, allowed: ["certificate_chain", "private_key"]),
                   let certificate = certificate(itemFields) {
                    certificates.append(certificate)
                }
            }
            return certificates.count == items.count ? ListenerTLSConfig(certificates: certificates) : nil
        }
        guard single else {
            error(f.mark, path, "needs certificate_chain and private_key (or certificates: [...] for SNI)")
            return nil
        }
        return certificate(f).map { ListenerTLSConfig(certificates: [$0]) }
    }

    private func certificate(_ f: Fields) -> CertificateConfig? {
        let chain = required(f, "certificate_chain").flatMap { readableFile($0, f.child("certificate_chain"), what: "certificate chain file") }
        let key = required(f, "private_key").flatMap { readableFile($0, f.child("private_key"), what: "private key file") }
        guard let chain, let key else { return nil }
        return CertificateConfig(certificateChain: chain, privateKey: key)
    }

    func address(_ node: Node, _ path: String, allowPortZero: Bool) -> HostPort? {
        guard let text = nonEmptyString(node, path) else { return nil }
        guard let address = HostPort.parse(text) else {
            error(node, path, "invalid address '\(text)' (expected host:port, [v6]:port or 0.0.0.0:port, port 0-65535)")
            return nil
        }
        if address.port == 0 && !allowPortZero {
            error(node, path, "port 0 is not allowed here")
            return nil
        }
        return address
    }

    // MARK: admin

    /// Null or false disables the admin listener, as omitting it does.
    func admin(_ node: Node, _ path: String) -> AdminConfig? {
        if isNull(node) || (node.tag.rawValue == Tag.Name.bool.rawValue && node.bool == false) { return nil }
        guard let f = fields(node, path, allowed: ["address"]),
              let addressNode = required(f, "address"),
              let address = address(addressNode, f.child("address"), allowPortZero: true) else { return nil }
        return AdminConfig(address: address.description)
    }

    // MARK: apps

    func apps(_ node: Node, _ path: String) -> [AppConfig] {
        guard let items = sequence(node, path) else { return [] }
        var result: [AppConfig] = []
        var seen: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            let itemPath = path.item(i)
            guard let f = fields(item, itemPath, allowed: ["client_id", "secrets", "shops"]) else { continue }
            let clientIdNode = required(f, "client_id")
            let clientId = clientIdNode.flatMap { nonEmptyString($0, f.child("client_id")) }
            if let clientId, let clientIdNode {
                if let first = seen[clientId] {
                    error(clientIdNode, f.child("client_id"), "duplicate client_id '\(clientId)' (also apps[\(first)])")
                } else {
                    seen[clientId] = i
                }
            }
            let secrets = required(f, "secrets").flatMap { self.secrets($0, f.child("secrets")) }
            var shops: [String]? = AppConfig(clientId: "", secrets: []).shops
            if let shopsNode = f["shops"] {
                shops = stringList(shopsNode, f.child("shops"))
                if shops?.isEmpty == true {
                    error(shopsNode, f.child("shops"), "needs at least one shop pattern (omit it for *.myshopify.com)")
                    shops = nil
                }
            }
            if let clientId, let secrets, let shops {
                result.append(AppConfig(clientId: clientId, secrets: secrets, shops: shops.map { $0.lowercased() }))
            }
        }
        return result
    }

    func secrets(_ node: Node, _ path: String) -> [Secret]? {
        guard let items = sequence(node, path) else { return nil }
        guard !items.isEmpty else {
            error(node, path, "needs at least one secret")
            return nil
        }
        let secrets = items.enumerated().compactMap { secret($1, path.item($0)) }
        return secrets.count == items.count ? secrets : nil
    }

    /// Exactly one of `{env: NAME}`, `{file: PATH}`, `{value: "..."}` (the last with a warning).
    func secret(_ node: Node, _ path: String) -> Secret? {
        let sources = ["env", "file", "value"]
        guard let f = fields(node, path, allowed: sources) else { return nil }
        let present = sources.filter { f.has($0) }
        guard present.count == 1, let source = present.first, let valueNode = f[source] else {
            let found = present.isEmpty ? "none" : present.joined(separator: " and ")
            error(f.mark, path, "a secret needs exactly one of env, file or value (found \(found))")
            return nil
        }
        let valuePath = f.child(source)
        guard let text = nonEmptyString(valueNode, valuePath) else { return nil }
        switch source {
        case "env":
            guard let value = environment[text], !value.isEmpty else {
                error(valueNode, valuePath, "environment variable \(text) is not set or is empty")
                return nil
            }
            return Secret(source: .env(text), bytes: Array(value.utf8))
        case "file":
            let resolved = resolve(text)
            switch readFile(resolved) {
            case .failure(let problem):
                error(valueNode, valuePath, "secret file '\(resolved)' \(problem)")
                return nil
            case .success(var bytes):
                while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
                guard !bytes.isEmpty else {
                    error(valueNode, valuePath, "secret file '\(resolved)' is empty")
                    return nil
                }
                return Secret(source: .file(text), bytes: bytes)
            }
        default:
            warning(valueNode, valuePath, "secret written in the config file; prefer {env: NAME} or {file: PATH}")
            return Secret(source: .value, bytes: Array(text.utf8))
        }
    }
}
