import GatewayAuth
import Testing

@Suite struct VerifiedTokenCacheTests {
    static let verdict = TokenVerdict(clientId: "app-1", appIndex: 0, shopDomain: "store.myshopify.com",
                                      customerGID: nil, customerNumericId: nil, staffUserId: nil, jti: "j",
                                      expiresAt: 1_000, isAdmin: false, secretIndex: 0)

    private func with<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        Array(text.utf8).withUnsafeBufferPointer(body)
    }

    @Test func answersForTheExactBytesUntilValidUntil() {
        let cache = VerifiedTokenCache()
        with("Bearer aaaa.bbbb.cccc") { cache.store(Self.verdict, for: $0, validUntil: 1_010) }
        #expect(with("Bearer aaaa.bbbb.cccc") { cache.verdict(for: $0, now: 1_009) } == Self.verdict)
        // Same length, one byte different: a miss, never someone else's verdict.
        #expect(with("Bearer aaaa.bbbb.cccd") { cache.verdict(for: $0, now: 1_009) } == nil)
        #expect(with("Bearer aaaa.bbbb.ccc") { cache.verdict(for: $0, now: 1_009) } == nil)
        // At validUntil the entry is gone for good.
        #expect(with("Bearer aaaa.bbbb.cccc") { cache.verdict(for: $0, now: 1_010) } == nil)
        #expect(cache.count == 0)
        #expect(with("Bearer aaaa.bbbb.cccc") { cache.verdict(for: $0, now: 1_000) } == nil)
    }

    @Test func boundedByItsSlotsAndSkipsOversizedValues() {
        let cache = VerifiedTokenCache(slotCount: 8)
        for i in 0..<100 { with("Bearer token-\(i)") { cache.store(Self.verdict, for: $0, validUntil: 2_000) } }
        #expect(cache.count <= 8)
        let big = "Bearer " + String(repeating: "x", count: VerifiedTokenCache.maxValueBytes)
        let before = cache.count
        with(big) { cache.store(Self.verdict, for: $0, validUntil: 2_000) }
        #expect(cache.count == before)
        #expect(with(big) { cache.verdict(for: $0, now: 1_500) } == nil)
    }

    /// The slot hash mixes the MAC at the end of a token: distinct tokens fill the slots (a poor hash would
    /// crowd them into a few), and short values still spread.
    @Test func distinctTokensSpreadOverTheSlots() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var rng = SystemRandomNumberGenerator()
        let cache = VerifiedTokenCache(slotCount: 512)
        for _ in 0..<4_096 {
            let mac = (0..<43).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
            (Array("Bearer eyJhbGciOiJIUzI1NiJ9.eyJkZXN0IjoiYSJ9.".utf8) + mac).withUnsafeBufferPointer {
                cache.store(Self.verdict, for: $0, validUntil: 2_000)
            }
        }
        // 4,096 uniform keys leave a slot empty with probability e^-8: about 0.2 of 512.
        #expect(cache.count >= 500)
        let small = VerifiedTokenCache(slotCount: 64)
        for i in 0..<1_000 { with("t-\(i)") { small.store(Self.verdict, for: $0, validUntil: 2_000) } }
        #expect(small.count >= 60)
    }

    @Test func aLongValueMustMatchBeforeItsMacToo() {
        // Same MAC tail, different payload: the MAC is compared first, the rest must still be identical.
        let mac = String(repeating: "m", count: 43)
        let stored = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJkZXN0IjoiYSJ9." + mac
        let forged = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJkZXN0IjoiYiJ9." + mac
        let cache = VerifiedTokenCache()
        with(stored) { cache.store(Self.verdict, for: $0, validUntil: 2_000) }
        #expect(with(forged) { cache.verdict(for: $0, now: 1_500) } == nil)
        #expect(with(stored) { cache.verdict(for: $0, now: 1_500) } == Self.verdict)
    }
}
