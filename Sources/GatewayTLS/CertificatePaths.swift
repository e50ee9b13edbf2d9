/// Where one certificate lives (a listener's, or the one a client shows): a PEM chain (leaf first) and its PEM private key.
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
