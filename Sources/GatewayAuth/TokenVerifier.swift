import GatewayCore

/// Checks session tokens against the contract's rules (header, signature, then claims). Safe to share between loops.
///
/// Order of checks: Authorization syntax; token shape; header (`alg` == HS256, then `typ`); payload JSON and
/// `aud` -> app; signature against each of the app's secrets; claim types (`exp` required); `exp`, `nbf`,
/// `iat`, lifetime; `dest` present; `dest` a plausible host allowed by the app's shops; `iss` host == `dest`.
public final class TokenVerifier: Sendable {
    public let settings: VerifierSettings
    public let clock: any Clock
    private let apps: [PreparedApp]

    public init(settings: VerifierSettings, clock: any Clock) {
        self.settings = settings
        self.clock = clock
        self.apps = settings.apps.map(PreparedApp.init)
    }

    /// Verifies the value of an `Authorization` header (`Bearer <token>`); an empty value is `missing_token`.
    public func verify(authorization: String) -> Result<TokenVerdict, AuthFailure> {
        var value = authorization
        return value.withUTF8 { verify(authorizationBytes: $0) }
    }

    /// Verifies the raw bytes of an `Authorization` header value, as they sit in `HTTPHeaders.storage`.
    public func verify(authorizationBytes value: UnsafeBufferPointer<UInt8>) -> Result<TokenVerdict, AuthFailure> {
        switch AuthorizationHeader.tokenRange(in: value) {
        case .failure(let failure): return .failure(failure)
        case .success(let range): return verify(tokenBytes: UnsafeBufferPointer(rebasing: value[range]))
        }
    }

    /// Verifies a bare token (no `Bearer ` prefix).
    public func verify(token: String) -> Result<TokenVerdict, AuthFailure> {
        if token.isEmpty { return .failure(.missingToken) }
        var value = token
        return value.withUTF8 { verify(tokenBytes: $0) }
    }

    func verify(tokenBytes token: UnsafeBufferPointer<UInt8>) -> Result<TokenVerdict, AuthFailure> {
        guard let segments = TokenSegments.split(token) else { return .failure(.malformedToken) }
        if let failure = JWS.checkHeader(UnsafeBufferPointer(rebasing: token[segments.header])) {
            return .failure(failure)
        }
        let payloadSegment = UnsafeBufferPointer(rebasing: token[segments.payload])
        guard let payloadLength = Base64URL.decodedLength(payloadSegment.count) else { return .failure(.malformedToken) }
        // Decoded into a scratch buffer: the reader copies out the strings it keeps.
        let parsed = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: payloadLength) { scratch -> FlatJSONReader.Members? in
            guard let n = Base64URL.decode(payloadSegment, into: scratch) else { return nil }
            return FlatJSONReader.parseObject(UnsafeBufferPointer(rebasing: scratch[..<n]))
        }
        guard let members = parsed else { return .failure(.malformedToken) }
        let appIndex: Int
        switch selectApp(members) {
        case .failure(let failure): return .failure(failure)
        case .success(let index): appIndex = index
        }
        let app = apps[appIndex]
        let signatureSegment = UnsafeBufferPointer(rebasing: token[segments.signature])
        guard let signatureLength = Base64URL.decodedLength(signatureSegment.count) else { return .failure(.malformedToken) }
        var verifiedWith = 0
        let checked = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: signatureLength) { scratch -> AuthFailure? in
            guard let n = Base64URL.decode(signatureSegment, into: scratch) else { return .malformedToken }
            let signingInput = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(token)[segments.signingInput])
            let signature = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: scratch[..<n]))
            guard let index = app.secretIndex(signingInput: signingInput, signature: signature) else {
                return .invalidSignature
            }
            verifiedWith = index
            return nil
        }
        if let checked { return .failure(checked) }
        return checkClaims(members, app: app, appIndex: appIndex, secretIndex: verifiedWith)
    }

    /// `aud` picks the app: a string must equal a client id; for an array of strings the first element that
    /// names a configured app wins. Absent is `missing_claim`, another type `malformed_token`.
    private func selectApp(_ members: FlatJSONReader.Members) -> Result<Int, AuthFailure> {
        guard let aud = members.value(of: .aud) else { return .failure(.missingClaim) }
        switch aud {
        case .string(let id):
            if let i = apps.firstIndex(where: { $0.clientId == id }) { return .success(i) }
        case .stringArray(let ids):
            for id in ids {
                if let i = apps.firstIndex(where: { $0.clientId == id }) { return .success(i) }
            }
        default:
            return .failure(.malformedToken)
        }
        return .failure(.unknownAudience)
    }

    private func checkClaims(_ members: FlatJSONReader.Members, app: PreparedApp, appIndex: Int,
                             secretIndex: Int) -> Result<TokenVerdict, AuthFailure> {
        let claims: TokenClaims
        switch TokenClaims.extract(from: members) {
        case .failure(let failure): return .failure(failure)
        case .success(let c): claims = c
        }
        if let failure = ClaimRules.checkTimes(claims, now: clock.wallSeconds(), skew: settings.clockSkew,
                                               maxLifetime: settings.maxLifetime) {
            return .failure(failure)
        }
        guard let dest = claims.dest else { return .failure(.missingClaim) }
        guard let host = ClaimRules.shopHost(fromDest: dest), app.allows(shop: host) else {
            return .failure(.shopNotAllowed)
        }
        var isAdmin = false
        if let iss = claims.iss {
            guard ClaimRules.issuer(iss, matchesHost: host) else { return .failure(.issuerMismatch) }
            isAdmin = iss.hasSuffix("/admin")
        }
        var customerGID: String?
        var customerNumericId: String?
        var staffUserId: String?
        if let sub = claims.sub {
            if isAdmin {
                if ClaimRules.isDigits(Substring(sub)) { staffUserId = sub }
            } else if let digits = ClaimRules.customerDigits(fromSub: sub) {
                customerGID = sub
                customerNumericId = digits
            }
        }
        return .success(TokenVerdict(
            clientId: app.clientId, appIndex: appIndex, shopDomain: host,
            customerGID: customerGID, customerNumericId: customerNumericId, staffUserId: staffUserId,
            jti: claims.jti, expiresAt: claims.exp, isAdmin: isAdmin, secretIndex: secretIndex))
    }
}
