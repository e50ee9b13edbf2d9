/// An app from `VerifierSettings` with its keys prepared for HMAC and its shop globs lower-cased; built once per config.
struct PreparedApp: Sendable {
    let clientId: String
    let keys: [HMACSHA256Key]
    let shops: [ShopGlob]

    init(_ app: AppKeys) {
        clientId = app.clientId
        keys = app.secrets.map { HMACSHA256Key(secret: $0) }
        shops = app.shopPatterns.map { ShopGlob($0) }
    }

    /// Index of the first secret whose tag over `signingInput` equals `signature`.
    func secretIndex(signingInput: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer) -> Int? {
        for (i, key) in keys.enumerated() where key.verify(signingInput, signature: signature) {
            return i
        }
        return nil
    }

    func allows(shop host: String) -> Bool {
        shops.contains { $0.matches(host) }
    }
}
