/// Where one server certificate lives: a PEM chain (leaf first) and its PEM private key.
public struct CertificatePaths: Sendable, Hashable {
    /// PEM file with the leaf certificate followed by any intermediates.
    public var certificateChain: String
    /// PEM file with the private key matching the leaf.
    public var privateKey: String

    /// Names the two files of one certificate.
    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}
