import GatewayCore

/// The whole of `gateway.yaml` as value types, every key with the contract's default.
public struct GatewayConfig: Sendable {
    public var listeners: [ListenerConfig] = [ListenerConfig(address: "127.0.0.1:8080")]
    public var admin: AdminConfig? = AdminConfig(address: "127.0.0.1:9901")
    public var apps: [AppConfig] = []
    public var token = TokenConfig()
    public var replay = ReplayConfig()
    public var upstreams: [UpstreamConfig] = []
    public var routes: [RouteConfig] = []
    public var identityHeaders = IdentityHeadersConfig()
    public var cors = CorsConfig()
    public var limits = LimitsConfig()
    public var shutdown = ShutdownConfig()
    public var logging = LoggingConfig()

    public init() {}
}

public struct ListenerConfig: Sendable, Equatable {
    /// `host:port`, `[v6]:port`.
    public var address: String
    public var tls: ListenerTLSConfig?
    /// Peers whose `X-Forwarded-For` is appended to and whose `X-Forwarded-Proto`/`-Host` are kept.
    public var trustedProxies: TrustedProxies
    /// Each connection must open with a PROXY protocol v1 or v2 header naming the client.
    public var proxyProtocol: Bool

    public init(address: String, tls: ListenerTLSConfig? = nil, trustedProxies: TrustedProxies = TrustedProxies(),
                proxyProtocol: Bool = false) {
        self.address = address
        self.tls = tls
        self.trustedProxies = trustedProxies
        self.proxyProtocol = proxyProtocol
    }
}

/// One certificate chain and its key, in PEM files.
public struct CertificateConfig: Sendable, Equatable {
    public var certificateChain: String
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}

/// `listeners[].tls`: one certificate (`certificate_chain` + `private_key`) or several chosen by SNI (`certificates: [...]`).
public struct ListenerTLSConfig: Sendable, Equatable {
    /// The first is the default when the client sends no SNI or an unknown name.
    public var certificates: [CertificateConfig]

    public init(certificates: [CertificateConfig]) { self.certificates = certificates }
}

public struct AdminConfig: Sendable, Equatable {
    public var address: String
    public init(address: String) { self.address = address }
}

/// A client secret whose value never appears in descriptions, logs or `check` output.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Source: Sendable, Equatable {
        case env(String)
        case file(String)
        case value
    }

    public let source: Source
    /// The secret bytes; read only by the verifier and the token minter.
    public let bytes: [UInt8]

    public init(source: Source, bytes: [UInt8]) {
        self.source = source
        self.bytes = bytes
    }

    public var description: String {
        switch source {
        case .env(let name): return "env:\(name) (redacted)"
        case .file(let path): return "file:\(path) (redacted)"
        case .value: return "value (redacted)"
        }
    }

    public var debugDescription: String { description }
}

public struct AppConfig: Sendable, Equatable {
    public var clientId: String
    /// First is current; all are tried.
    public var secrets: [Secret]
    /// Globs on the shop host (`*.myshopify.com`).
    public var shops: [String] = ["*.myshopify.com"]

    public init(clientId: String, secrets: [Secret], shops: [String] = ["*.myshopify.com"]) {
        self.clientId = clientId
        self.secrets = secrets
        self.shops = shops
    }
}

public struct TokenConfig: Sendable, Equatable {
    public var clockSkew: TimeSpan = .seconds(10)
    public var maxLifetime: TimeSpan = .minutes(15)
    public init() {}
}

public enum ReplayMode: String, Sendable, Equatable, CaseIterable {
    case singleUse = "single-use"
    case off
}

public enum ReplayStoreKind: String, Sendable, Equatable, CaseIterable {
    case memory
    case redis
}

public enum RedisUnavailablePolicy: String, Sendable, Equatable, CaseIterable {
    case reject
    case allow
}

public struct RedisConfig: Sendable, Equatable {
    /// As written. It may hold a password, so it is only ever printed as `endpoint()`'s description.
    public var url: String = "redis://127.0.0.1:6379/0"
    /// The ACL user for `AUTH username password`; "" logs in as the default user (`AUTH password`).
    public var username: String = ""
    /// The password for `AUTH`, from `{env}`, `{file}` or `{value}`; nil when there is none or the URL carries it.
    public var password: Secret?
    public var keyPrefix: String = "sgw:jti:"
    public var timeout: TimeSpan = .milliseconds(50)
    public var onUnavailable: RedisUnavailablePolicy = .reject
    /// `replay.redis.tls`: CA, client certificate and name to check; only with a `rediss*://` URL, which alone
    /// turns TLS on (nil then means the system CA store and each node's own host name).
    public var tls: RedisTLSConfig?
    public init() {}
}

/// `replay.redis.tls`: how the Redis store checks the servers' certificates and which one it shows them.
public struct RedisTLSConfig: Sendable, Equatable {
    /// PEM CA bundle the servers' chains must lead to; nil uses the system store (OpenSSL's default paths).
    public var caFile: String?
    /// PEM client certificate chain (leaf first) shown to servers that ask; always given with `privateKey`.
    public var certificateChain: String?
    /// PEM private key of `certificateChain`'s leaf; always given with `certificateChain`.
    public var privateKey: String?
    /// The DNS name or IP address every server certificate must carry (and the SNI, for a name); nil checks each
    /// node's own host, as written in the URL or as Sentinel and Cluster report it.
    public var serverName: String?

    /// Makes the settings from their parts; paths are used as given.
    public init(caFile: String? = nil, certificateChain: String? = nil, privateKey: String? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.serverName = serverName
    }
}

public struct ReplayConfig: Sendable, Equatable {
    public var mode: ReplayMode = .singleUse
    public var store: ReplayStoreKind = .memory
    public var maxEntries: Int = 2_000_000
    public var redis = RedisConfig()
    public init() {}
}

public struct UpstreamTLSConfig: Sendable, Equatable {
    public var serverName: String?
    public var caFile: String?
    public var verify: Bool = true

    public init(serverName: String? = nil, caFile: String? = nil, verify: Bool = true) {
        self.serverName = serverName
        self.caFile = caFile
        self.verify = verify
    }
}

public struct UpstreamConfig: Sendable, Equatable {
    public var name: String
    /// `host:port`, `[v6]:port` or `unix:PATH` each; round robin.
    public var servers: [String]
    public var tls: UpstreamTLSConfig?
    public var connectTimeout: TimeSpan = .seconds(2)
    public var responseTimeout: TimeSpan = .seconds(30)
    public var idleTimeout: TimeSpan = .seconds(60)
    public var maxIdleConnections: Int = 64
    /// Bounds the open connections (idle and busy) to each server, per gateway process, so a slow backend is not
    /// buried under new connections; requests beyond it wait for one. At least 1.
    public var maxConnections: Int = 512
    /// How long a request may wait for a connection under `maxConnections` before it is answered `503 upstream_busy`.
    public var queueTimeout: TimeSpan = .seconds(2)
    /// How often servers given by host name are looked up again (all their addresses are used).
    public var resolveInterval: TimeSpan = .seconds(30)

    public init(name: String, servers: [String]) {
        self.name = name
        self.servers = servers
    }
}

public enum AuthMode: String, Sendable, Equatable, CaseIterable {
    case required
    case optional
    case none
}

public struct RouteConfig: Sendable, Equatable {
    public var pathPrefix: String
    /// Upper-case method names; nil allows every method.
    public var methods: [String]?
    public var auth: AuthMode = .required
    public var requireCustomer: Bool = false
    /// nil inherits `replay.mode`.
    public var replay: ReplayMode?
    public var upstream: String
    /// Client ids of the apps whose tokens may pass this route; nil lets every configured app through.
    public var apps: [String]?

    public init(pathPrefix: String, upstream: String, auth: AuthMode = .required) {
        self.pathPrefix = pathPrefix
        self.upstream = upstream
        self.auth = auth
    }
}

public enum CustomerIdFormat: String, Sendable, Equatable, CaseIterable {
    case gid
    case numeric
}

public struct IdentityHeadersConfig: Sendable, Equatable {
    public var shopDomain: String = "X-Shop-Domain"
    public var customerId: String = "X-Customer-Id"
    public var customerIdFormat: CustomerIdFormat = .gid
    public var staffUserId: String = "X-Staff-User-Id"
    /// Where the accepted token's app client id goes, for backends serving several apps; "" injects nothing.
    public var clientId: String = ""
    public var forwardToken: Bool = true
    public init() {}
}

public struct CorsConfig: Sendable, Equatable {
    public var enabled: Bool = true
    public var allowOrigins: [String] = ["*"]
    public var allowHeaders: [String] = ["Authorization", "Content-Type"]
    public var exposeHeaders: [String] = ["X-Request-Id", "X-Shopify-Retry-Invalid-Session-Request"]
    public var maxAge: TimeSpan = .hours(2)
    public init() {}
}

public struct LimitsConfig: Sendable, Equatable {
    public var maxHeaderBytes: Int = 32 << 10
    public var maxBodyBytes: Int = 10 << 20
    public var headerTimeout: TimeSpan = .seconds(10)
    public var keepaliveTimeout: TimeSpan = .seconds(75)
    public var maxConnections: Int = 10_000
    /// How long a WebSocket tunnel (HTTP/1.1 or HTTP/2) may pass no bytes either way before it is closed, so dead
    /// peers do not hold connections forever.
    public var tunnelIdleTimeout: TimeSpan = .seconds(60)
    public init() {}
}

public struct ShutdownConfig: Sendable, Equatable {
    /// How long `/readyz` answers 503 after a stop signal while everything else is served, before the drain.
    public var readinessGrace: TimeSpan = .seconds(0)
    public var drainTimeout: TimeSpan = .seconds(20)
    public init() {}
}

public enum LogLevel: String, Sendable, Equatable, CaseIterable {
    case trace, debug, info, warning, error
}

public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    case json, text
}

public struct LoggingConfig: Sendable, Equatable {
    public var level: LogLevel = .info
    public var format: LogFormat = .json
    public init() {}
}
