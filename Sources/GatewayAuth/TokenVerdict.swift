/// What an accepted token tells the proxy: who the request is for, and how long its `jti` must be remembered.
///
/// A class of constants: a verdict is read on every request that reuses a cached token, and sharing one object costs
/// one reference count where copying a struct of six strings cost six.
public final class TokenVerdict: Sendable, Equatable {
    /// The app's client id (`aud`).
    public let clientId: String
    /// Index of the app in `VerifierSettings.apps`.
    public let appIndex: Int
    /// `dest` with the scheme stripped, lower-cased: `store.myshopify.com`.
    public let shopDomain: String
    /// `gid://shopify/Customer/<digits>` when `sub` is exactly that (extension tokens); otherwise nil.
    public let customerGID: String?
    /// The `<digits>` of `customerGID`.
    public let customerNumericId: String?
    /// Admin tokens (`iss` ends in `/admin`): the staff user id from `sub` (digits only); never a customer id.
    public let staffUserId: String?
    /// `jti` when present (single-use replay needs it).
    public let jti: String?
    /// `exp` in Unix seconds.
    public let expiresAt: Int64
    /// Admin-style token (App Bridge) rather than an extension token.
    public let isAdmin: Bool
    /// Which secret verified it (0 = current); lets operators see rotation progress.
    public let secretIndex: Int
    /// Every claim a proxy may copy into a header field (shop, customer GID and digits, staff id) is non-empty where
    /// required and visible ASCII only (no space, no control). Worked out once: a cached verdict serves many requests.
    public let identityIsFieldSafe: Bool

    public init(clientId: String, appIndex: Int, shopDomain: String, customerGID: String?, customerNumericId: String?,
                staffUserId: String?, jti: String?, expiresAt: Int64, isAdmin: Bool, secretIndex: Int) {
        self.clientId = clientId
        self.appIndex = appIndex
        self.shopDomain = shopDomain
        self.customerGID = customerGID
        self.customerNumericId = customerNumericId
        self.staffUserId = staffUserId
        self.jti = jti
        self.expiresAt = expiresAt
        self.isAdmin = isAdmin
        self.secretIndex = secretIndex
        identityIsFieldSafe = !shopDomain.isEmpty && TokenVerdict.isVisibleASCII(shopDomain)
            && (customerGID.map(TokenVerdict.isVisibleASCII) ?? true)
            && (customerNumericId.map(TokenVerdict.isVisibleASCII) ?? true)
            && (staffUserId.map(TokenVerdict.isVisibleASCII) ?? true)
    }

    /// Bytes 0x21...0x7E only.
    static func isVisibleASCII(_ s: String) -> Bool {
        for b in s.utf8 where b < 0x21 || b > 0x7E { return false }
        return true
    }

    public static func == (a: TokenVerdict, b: TokenVerdict) -> Bool {
        a === b || (a.clientId == b.clientId && a.appIndex == b.appIndex && a.shopDomain == b.shopDomain
            && a.customerGID == b.customerGID && a.customerNumericId == b.customerNumericId && a.staffUserId == b.staffUserId
            && a.jti == b.jti && a.expiresAt == b.expiresAt && a.isAdmin == b.isAdmin && a.secretIndex == b.secretIndex)
    }
}

/// One app the verifier knows: its client id (`aud`), secrets (first is current) and allowed shop globs.
public struct AppKeys: Sendable {
    public var clientId: String
    public var secrets: [[UInt8]]
    public var shopPatterns: [String]

    public init(clientId: String, secrets: [[UInt8]], shopPatterns: [String] = ["*.myshopify.com"]) {
        self.clientId = clientId
        self.secrets = secrets
        self.shopPatterns = shopPatterns
    }
}

/// Everything the verifier needs from configuration; built once per config (re)load.
public struct VerifierSettings: Sendable {
    public var apps: [AppKeys]
    /// Leeway in seconds on `exp`, `nbf`, `iat`.
    public var clockSkew: Int64
    /// Largest accepted `exp - iat`, in seconds.
    public var maxLifetime: Int64

    public init(apps: [AppKeys], clockSkew: Int64 = 10, maxLifetime: Int64 = 900) {
        self.apps = apps
        self.clockSkew = clockSkew
        self.maxLifetime = maxLifetime
    }
}
