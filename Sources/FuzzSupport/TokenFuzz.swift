import Foundation
import GatewayAuth
import GatewayCore

/// `fuzz-token`: session tokens through the whole verifier (the `Authorization` bytes path the gate uses), with a
/// fixed secret, client id and clock. The first byte picks the mode:
/// - 0: the rest is a raw `Authorization` value; 1: the rest is a token after `Bearer `;
/// - 2: the rest is header JSON, a NUL, payload JSON, signed with the app's secret (reaches the JSON reader and the
///   claim rules past the signature);
/// - 3: a valid minted token (claims chosen by the input) edited by the rest, three bytes per edit, and signed again
///   when the first byte's bit 4 is set.
///
/// Invariants:
/// - an accepted token has three segments that base64url-decode and re-encode to themselves (canonical), its
///   signature is the HMAC-SHA256 of exactly the bytes `header.payload` under the secret the verdict names,
///   `JWS.verifyHS256` agrees, and the token re-encoded from its decoded segments verifies to the same verdict;
/// - its header says HS256, its payload has no duplicate member names, `aud` is the verdict's app, the shop is lower
///   case and allowed, the time claims hold at the fixed clock, and the identity values are field-safe;
/// - the verifier gives the same answer twice, and the same through the String entry point;
/// - base64url decode/encode round-trip on the input; the JSON reader never accepts duplicate names, and what it
///   accepts Foundation's JSON parser accepts too.
public enum TokenFuzz {
    static let now: Int64 = 1_700_000_000
    static let clientId = "fuzz-client-id"
    static let secrets: [[UInt8]] = [Array("fuzz-current-secret-0123456789abcdef".utf8),
                                     Array("fuzz-previous-secret-fedcba9876543210".utf8)]
    static let otherSecret: [UInt8] = Array("other-app-secret".utf8)
    static let settings = VerifierSettings(apps: [
        AppKeys(clientId: clientId, secrets: secrets, shopPatterns: ["*.myshopify.com", "shop.example"]),
        AppKeys(clientId: "other-app", secrets: [otherSecret]),
    ], clockSkew: 10, maxLifetime: 900)
    static let verifier = TokenVerifier(settings: settings, clock: ManualClock(wallSeconds: now))

    public static func check(_ data: UnsafeRawBufferPointer) throws(InvariantViolation) {
        guard let first = data.first else { return }
        let rest = Array(data.dropFirst())
        try checkBase64URL(rest)
        try checkJSONReader(rest)
        let authorization: [UInt8]
        switch first % 4 {
        case 0: authorization = rest
        case 1: authorization = Array("Bearer ".utf8) + rest
        case 2: authorization = Array("Bearer ".utf8) + signed(rest, secret: secrets[Int(first >> 2) & 1])
        default: authorization = Array("Bearer ".utf8) + mutatedToken(rest, resign: first & 0x10 != 0, selector: first)
        }
        try checkVerify(authorization)
    }

    // MARK: inputs

    /// Header JSON, NUL, payload JSON (no NUL: all of it is the payload, with the canonical header), signed.
    static func signed(_ rest: [UInt8], secret: [UInt8]) -> [UInt8] {
        let header: [UInt8]
        let payload: [UInt8]
        if let nul = rest.firstIndex(of: 0) {
            header = Array(rest[..<nul])
            payload = Array(rest[(nul + 1)...])
        } else {
            header = Array(TokenMinter.headerJSON.utf8)
            payload = rest
        }
        return sign(Array((Base64URL.encode(header) + "." + Base64URL.encode(payload)).utf8), secret: secret)
    }

    /// `signingInput.signature`.
    static func sign(_ signingInput: [UInt8], secret: [UInt8]) -> [UInt8] {
        let tag = HMACSHA256Key(secret: secret).tag(of: signingInput) ?? []
        return signingInput + [UInt8(ascii: ".")] + Array(Base64URL.encode(tag).utf8)
    }

    /// A valid token (shape from the selector byte), then the edits the rest describes.
    static func mutatedToken(_ rest: [UInt8], resign: Bool, selector: UInt8) -> [UInt8] {
        let seed = rest.first ?? 0
        let subject: String? = switch seed % 3 {
        case 0: "gid://shopify/Customer/\(Int(seed) * 7919)"
        case 1: nil
        default: "42"
        }
        let admin = seed % 3 == 2
        let shop = admin ? "https://fuzz-shop.myshopify.com" : "fuzz-shop.myshopify.com"
        let secret = secrets[Int(selector >> 5) & 1]
        let token = TokenMinter.mint(shop: shop, clientId: clientId, issuedAt: now - Int64(seed % 64), ttl: 300,
                                     jti: "jti-\(seed)", subject: subject,
                                     issuer: admin ? "https://fuzz-shop.myshopify.com/admin" : nil, secret: secret)
        var t = Array(token.utf8)
        var k = 1
        while k + 2 < rest.count {
            let op = rest[k], at = Int(rest[k + 1]), value = rest[k + 2]
            k += 3
            let pos = t.isEmpty ? 0 : at * t.count / 256
            switch op % 6 {
            case 0: if pos < t.count { t[pos] = value }
            case 1: t.insert(value, at: min(pos, t.count))
            case 2: if pos < t.count { t.remove(at: pos) }
            case 3: if pos < t.count { t[pos] ^= 1 << (value & 7) }
            case 4: t.removeLast(min(Int(value) % 8, t.count))
            default:
                // Replace the payload segment with base64url of the following bytes (up to `value % 64` of them).
                let take = min(Int(value) % 64, rest.count - k)
                let replacement = Array(rest[k..<(k + take)])
                k += take
                let parts = t.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
                if parts.count == 3 {
                    t = Array(parts[0]) + [0x2E] + Array(Base64URL.encode(replacement).utf8) + [0x2E] + Array(parts[2])
                }
            }
        }
        if resign, let dot = t.lastIndex(of: UInt8(ascii: ".")) {
            t = sign(Array(t[..<dot]), secret: secret)
        }
        return t
    }

    // MARK: checks

    static func checkBase64URL(_ rest: [UInt8]) throws(InvariantViolation) {
        let encoded = Base64URL.encode(rest)
        guard Base64URL.decode(Array(encoded.utf8)) == rest else {
            throw InvariantViolation("token", "base64url of \(FuzzInput.hex(rest)) does not decode back")
        }
        if let decoded = Base64URL.decode(rest) {
            guard Array(Base64URL.encode(decoded).utf8) == rest else {
                throw InvariantViolation("token", "base64url \(FuzzInput.hex(rest)) decodes but is not canonical")
            }
        }
    }

    static func checkJSONReader(_ rest: [UInt8]) throws(InvariantViolation) {
        guard let members = FlatJSONReader.parseObject(rest) else { return }
        try checkUniqueKeys(members, what: FuzzInput.hex(rest))
        let foundation = try? JSONSerialization.jsonObject(with: Data(rest), options: [])
        guard foundation is [String: Any] else {
            throw InvariantViolation("token", "the JSON reader accepted \(FuzzInput.hex(rest)), Foundation does not read an object")
        }
    }

    static func checkUniqueKeys(_ members: FlatJSONReader.Members, what: String) throws(InvariantViolation) {
        var seen = Set<[UInt8]>()
        for m in members where !seen.insert(Array(m.key.utf8)).inserted {
            throw InvariantViolation("token", "the JSON reader accepted a duplicate member \"\(m.key)\" in \(what)")
        }
    }

    static func verify(_ authorization: [UInt8]) -> Result<TokenVerdict, AuthFailure> {
        authorization.withUnsafeBufferPointer { verifier.verify(authorizationBytes: $0) }
    }

    static func checkVerify(_ authorization: [UInt8]) throws(InvariantViolation) {
        let result = verify(authorization)
        guard verify(authorization) == result else {
            throw InvariantViolation("token", "two verifications of \(FuzzInput.hex(authorization)) differ")
        }
        if let text = String(validating: authorization, as: UTF8.self) {
            let viaString = verifier.verify(authorization: text)
            guard viaString == result else {
                throw InvariantViolation("token", "verify(authorization:) gave \(viaString), the bytes gave \(result)")
            }
        }
        guard case .success(let v) = result else { return }
        try checkAccepted(authorization, verdict: v)
    }

    static func checkAccepted(_ authorization: [UInt8], verdict v: TokenVerdict) throws(InvariantViolation) {
        func fail(_ why: String) -> InvariantViolation {
            InvariantViolation("token", "accepted \(String(decoding: authorization, as: UTF8.self)): \(why)")
        }
        guard authorization.count > 7, authorization[..<7].map({ $0 | 0x20 }) == Array("bearer ".utf8) else {
            throw fail("no `Bearer ` prefix")
        }
        let token = Array(authorization[7...])
        let parts = token.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map { Array($0) }
        guard parts.count == 3 else { throw fail("\(parts.count) segments") }
        guard let header = Base64URL.decode(parts[0]), let payload = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]) else { throw fail("a segment is not base64url") }
        let reencoded = [header, payload, signature].map { Base64URL.encode($0) }
        guard reencoded.map({ Array($0.utf8) }) == parts else { throw fail("a segment is not canonical base64url") }

        guard v.appIndex == 0 || v.appIndex == 1 else { throw fail("app index \(v.appIndex)") }
        let appSecrets = v.appIndex == 0 ? secrets : [otherSecret]
        guard v.secretIndex >= 0 && v.secretIndex < appSecrets.count else { throw fail("secret index \(v.secretIndex)") }
        let secret = appSecrets[v.secretIndex]
        let signingInput = parts[0] + [0x2E] + parts[1]
        guard let tag = HMACSHA256Key(secret: secret).tag(of: signingInput), tag == signature else {
            throw fail("the signature is not the HMAC of header.payload under secret \(v.secretIndex)")
        }
        let text = String(decoding: token, as: UTF8.self)
        guard JWS.verifyHS256(token: text, key: secret) else { throw fail("JWS.verifyHS256 disagrees") }
        let again = verifier.verify(token: reencoded.joined(separator: "."))
        guard case .success(let v2) = again, v2 == v else { throw fail("the re-encoded token gives \(again)") }

        guard let headerMembers = FlatJSONReader.parseObject(header),
              headerMembers.first(where: { $0.key == "alg" })?.value == .string("HS256") else {
            throw fail("the header does not say HS256")
        }
        guard let members = FlatJSONReader.parseObject(payload) else { throw fail("the payload is not a JSON object") }
        try checkUniqueKeys(members, what: "the payload")
        let expectedClient = v.appIndex == 0 ? clientId : "other-app"
        guard v.clientId == expectedClient else { throw fail("client id \(v.clientId)") }
        switch members.first(where: { $0.key == "aud" })?.value {
        case .string(let aud)?: guard aud == v.clientId else { throw fail("aud \(aud)") }
        case .stringArray(let auds)?: guard auds.contains(v.clientId) else { throw fail("aud \(auds)") }
        default: throw fail("no aud")
        }
        let shop = v.shopDomain
        guard shop == shop.lowercased(), !shop.isEmpty else { throw fail("shop \(shop)") }
        if v.appIndex == 0 {
            guard shop.hasSuffix(".myshopify.com") || shop == "shop.example" else { throw fail("shop \(shop) not allowed") }
        } else {
            guard shop.hasSuffix(".myshopify.com") else { throw fail("shop \(shop) not allowed") }
        }
        guard v.expiresAt + settings.clockSkew >= now else { throw fail("expired at \(v.expiresAt)") }
        guard v.identityIsFieldSafe else { throw fail("identity values are not field-safe") }
        if let gid = v.customerGID {
            guard !v.isAdmin, gid == "gid://shopify/Customer/" + (v.customerNumericId ?? "-"),
                  v.customerNumericId?.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) == true else {
                throw fail("customer \(gid) / \(v.customerNumericId ?? "nil")")
            }
        }
        if let staff = v.staffUserId {
            guard v.isAdmin, !staff.isEmpty, staff.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw fail("staff \(staff)") }
        }
    }
}
