import Foundation

/// A TLS-only `redis-server` started from a `RedisTLSFixture`; killed when stopped or released.
public final class RedisTLSServer {
    public let port: Int
    public let password: String?
    public let clientAuth: RedisTLSFixture.ClientAuth
    private let fixture: RedisTLSFixture
    private let directory: TemporaryDirectory
    private let child: RedisChildProcess

    init(fixture: RedisTLSFixture, clientAuth: RedisTLSFixture.ClientAuth, password: String?, arguments: [String]) throws {
        self.fixture = fixture
        self.clientAuth = clientAuth
        self.password = password
        let port = try RedisServerProcess.freePort()
        self.port = port
        directory = try TemporaryDirectory(prefix: "sgw-redis-tls-server-")
        var args = ["--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1",
                    "--tls-cert-file", fixture.serverCertPath, "--tls-key-file", fixture.serverKeyPath,
                    "--tls-ca-cert-file", fixture.caCertPath, "--tls-auth-clients", clientAuth.rawValue,
                    "--dir", directory.path, "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "notice"]
        if let password { args += ["--requirepass", password] }
        child = try RedisChildProcess(port: port, arguments: args + arguments, logFile: directory.file("redis.log")) {
            RedisChildProcess.accepts(port: port)
        }
    }

    deinit { stop() }

    /// `redis-cli` over TLS trusting the fixture's CA (`caCertPath` overrides it), optionally with the client cert.
    public func cli(clientCert: Bool = false, caCertPath: String? = nil, password: String? = nil) -> RedisCLI {
        RedisCLI(port: port, password: password ?? self.password,
                 options: fixture.cliOptions(clientCert: clientCert, caCertPath: caCertPath))
    }

    /// The server's log, for failure messages.
    public func logTail() -> String { child.logTail() }

    public func stop() {
        child.stop()
        directory.remove()
    }
}
