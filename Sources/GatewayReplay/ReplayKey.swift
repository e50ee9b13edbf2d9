/// The fixed-size identity of one `(app, jti)` pair inside the memory store: a 128-bit keyed hash.
///
/// Two different pairs share a key with probability about 2^-128 each (n²/2^129 for n live entries:
/// ~2^-89 at 2M entries); the only effect of such a collision would be one wrongful `token_replayed`.
struct ReplayKey: Equatable {
    let h1: UInt64
    let h2: UInt64

    /// The secret that makes keys unpredictable to clients; one per store, never leaves the process.
    struct Secret: Sendable {
        let k0: UInt64
        let k1: UInt64

        static func random() -> Secret {
            var rng = SystemRandomNumberGenerator()
            return Secret(k0: rng.next(), k1: rng.next())
        }
    }

    init(h1: UInt64, h2: UInt64) {
        self.h1 = h1
        self.h2 = h2
    }

    /// Hashes the pair with the app's length first, so `("ab","c")` and `("a","bc")` differ.
    init(app: String, jti: String, secret: Secret) {
        var hasher = SipHash128(k0: secret.k0, k1: secret.k1)
        hasher.write(UInt64(app.utf8.count))
        hasher.write(app)
        hasher.write(jti)
        let tag = hasher.finalize()
        self.init(h1: tag.lo, h2: tag.hi)
    }
}
