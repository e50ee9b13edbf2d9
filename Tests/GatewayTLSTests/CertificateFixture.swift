import Foundation
import GatewayTLS

/// Throwaway PKI made with the `openssl` command line once per test run:
/// a CA, a leaf for localhost / *.example.test / 127.0.0.1 / ::1, a leaf for other.test, a client leaf (clientAuth),
/// and an unrelated CA.
struct CertificateFixture: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let directory: String
    var caCertificate: String { directory + "/ca.crt" }
    var otherCACertificate: String { directory + "/other-ca.crt" }
    var localhost: CertificatePaths { CertificatePaths(certificateChain: directory + "/localhost.crt", privateKey: directory + "/localhost.key") }
    var otherTest: CertificatePaths { CertificatePaths(certificateChain: directory + "/other.crt", privateKey: directory + "/other.key") }
    /// A client certificate (extendedKeyUsage clientAuth) issued by the same CA.
    var client: CertificatePaths { CertificatePaths(certificateChain: directory + "/client.crt", privateKey: directory + "/client.key") }

    static let shared: Result<CertificateFixture, Failure> = Result { () throws(Failure) in try make() }

    static func get() throws -> CertificateFixture { try shared.get() }

    private static func make() throws(Failure) -> CertificateFixture {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sgw-tls-\(UUID().uuidString)").path
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try caConfig.write(toFile: dir + "/ca.cnf", atomically: true, encoding: .utf8)
            try leafExtensions(san: "DNS:localhost,DNS:*.example.test,IP:127.0.0.1,IP:::1")
                .write(toFile: dir + "/localhost.ext", atomically: true, encoding: .utf8)
            try leafExtensions(san: "DNS:other.test").write(toFile: dir + "/other.ext", atomically: true, encoding: .utf8)
            try leafExtensions(san: "DNS:sgw-client", usage: "clientAuth")
                .write(toFile: dir + "/client.ext", atomically: true, encoding: .utf8)
        } catch {
            throw Failure(description: "cannot write fixture files: \(error)")
        }
        try makeCA(in: dir, name: "ca", subject: "/CN=Test CA")
        try makeCA(in: dir, name: "other-ca", subject: "/CN=Unrelated CA")
        try makeLeaf(in: dir, name: "localhost", subject: "/CN=localhost", serial: "2")
        try makeLeaf(in: dir, name: "other", subject: "/CN=other.test", serial: "3")
        try makeLeaf(in: dir, name: "client", subject: "/CN=sgw-client", serial: "4")
        return CertificateFixture(directory: dir)
    }

    private static let ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    private static let caConfig = """
        [req]
        distinguished_name = dn
        x509_extensions = v3_ca
        [dn]
        [v3_ca]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash

        """

    private static func leafExtensions(san: String, usage: String = "serverAuth") -> String {
        """
        basicConstraints = CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = \(usage)
        subjectAltName = \(san)
        authorityKeyIdentifier = keyid

        """
    }

    private static func makeCA(in dir: String, name: String, subject: String) throws(Failure) {
        try openssl(["req", "-x509", "-config", "ca.cnf"] + ecKey
            + ["-keyout", "\(name).key", "-out", "\(name).crt", "-days", "2", "-subj", subject], in: dir)
    }

    private static func makeLeaf(in dir: String, name: String, subject: String, serial: String) throws(Failure) {
        try openssl(["req", "-new", "-config", "ca.cnf"] + ecKey
            + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject], in: dir)
        try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", serial,
                     "-days", "2", "-extfile", "\(name).ext", "-out", "\(name).crt"], in: dir)
    }

    private static func openssl(_ arguments: [String], in dir: String) throws(Failure) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run openssl: \(error)")
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "openssl \(arguments.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))")
        }
    }
}
