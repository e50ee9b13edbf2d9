import Foundation

/// Certificates made with the `openssl` CLI for TLS tests against a real Redis: a CA, a server and a client cert
/// it signed, and an unrelated CA (with its own client cert) for the wrong-CA cases.
public final class RedisTLSFixture {
    /// Whether the server asks for a client certificate (`--tls-auth-clients`).
    public enum ClientAuth: String, Sendable {
        /// A client may present a certificate; if it does, it must chain to the CA.
        case optional
        /// A client must present a certificate that chains to the CA.
        case yes
        /// Client certificates are not requested.
        case no
    }

    public let directory: TemporaryDirectory
    public var caCertPath: String { directory.file("ca.crt") }
    public var caKeyPath: String { directory.file("ca.key") }
    /// SAN `IP:127.0.0.1, DNS:localhost`, so both hostname and IP verification pass.
    public var serverCertPath: String { directory.file("server.crt") }
    public var serverKeyPath: String { directory.file("server.key") }
    public var clientCertPath: String { directory.file("client.crt") }
    public var clientKeyPath: String { directory.file("client.key") }
    /// A CA that signed nothing the server trusts or presents.
    public var otherCACertPath: String { directory.file("other-ca.crt") }
    /// A client cert from `otherCA`: the server must refuse it when client auth is on.
    public var otherClientCertPath: String { directory.file("other-client.crt") }
    public var otherClientKeyPath: String { directory.file("other-client.key") }

    /// Generates every file (P-256 keys: an order of magnitude faster to make than RSA).
    public init() throws {
        directory = try TemporaryDirectory(prefix: "sgw-redis-tls-")
        try makeCA(name: "ca", subject: "/CN=session-gateway test CA")
        try makeCA(name: "other-ca", subject: "/CN=unrelated test CA")
        try makeLeaf(name: "server", ca: "ca", subject: "/CN=localhost",
                     extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                         // clientAuth too: Redis presents this certificate on outgoing links (replication, cluster bus).
                         + "extendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\n")
        try makeLeaf(name: "client", ca: "ca", subject: "/CN=gateway",
                     extensions: "extendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n")
        try makeLeaf(name: "other-client", ca: "other-ca", subject: "/CN=stranger",
                     extensions: "extendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n")
    }

    /// Starts a TLS-only `redis-server` (`--port 0`) with these certificates on a free port.
    public func startServer(clientAuth: ClientAuth = .optional, password: String? = nil,
                            arguments: [String] = []) throws -> RedisTLSServer {
        try RedisTLSServer(fixture: self, clientAuth: clientAuth, password: password, arguments: arguments)
    }

    /// `redis-cli` options that trust the CA, optionally presenting the client certificate.
    public func cliOptions(clientCert: Bool = false, caCertPath: String? = nil) -> [String] {
        var options = ["--tls", "--cacert", caCertPath ?? self.caCertPath]
        if clientCert { options += ["--cert", clientCertPath, "--key", clientKeyPath] }
        return options
    }

    private func makeCA(name: String, subject: String) throws {
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", directory.file("\(name).key"), "-out", directory.file("\(name).crt"),
                     "-days", "3650", "-subj", subject,
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    private func makeLeaf(name: String, ca: String, subject: String, extensions: String) throws {
        let csr = directory.file("\(name).csr")
        let ext = directory.file("\(name).ext")
        try openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", directory.file("\(name).key"), "-out", csr, "-subj", subject])
        try extensions.write(toFile: ext, atomically: false, encoding: .utf8)
        // A random serial: two fixtures' certificates must never look like the same certificate to a cache.
        let serial = "0x" + (0..<16).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.joined()
        try openssl(["x509", "-req", "-in", csr, "-CA", directory.file("\(ca).crt"), "-CAkey", directory.file("\(ca).key"),
                     "-set_serial", serial, "-days", "365", "-extfile", ext, "-out", directory.file("\(name).crt")])
    }

    private func openssl(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl"] + arguments
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw RedisServerProcess.Failure(description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: "
                + String(decoding: message, as: UTF8.self))
        }
    }
}
