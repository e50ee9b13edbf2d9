import Testing
@testable import GatewayAuth
import TestSupport

/// No single-byte change to a valid token is ever accepted (seeded, so a failure replays exactly).
@Suite struct MutationPropertyTests {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.".utf8)

    @Test func singleByteMutationsAreNeverAccepted() {
        let verifier = Fixtures.verifier()
        let tokens = [
            Fixtures.token(),
            Fixtures.token(secret: Fixtures.previousSecret),
            Fixtures.rawToken(payload: #"{"dest":"store.myshopify.com","aud":"client-a","exp":1700000300}"#,
                              header: #"{"typ":"JWT","alg":"HS256"}"#),
        ]
        var rng = SplitMix64(seed: 0x5EED_0A17)
        var tried = 0
        for original in tokens {
            let bytes = Array(original.utf8)
            #expect(verifier.verify(token: original).failure == nil)
            for round in 0..<2000 {
                var mutated = bytes
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                // Half the time stay inside the token alphabet, where a mutation gets furthest.
                repeat {
                    mutated[index] = round.isMultiple(of: 2)
                        ? Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &rng)]
                        : UInt8.random(in: 0...255, using: &rng)
                } while mutated[index] == bytes[index]
                let text = String(decoding: mutated, as: UTF8.self)
                let result = verifier.verify(token: text)
                #expect(result.failure != nil, "accepted mutation at \(index): \(text)")
                tried += 1
            }
        }
        #expect(tried == 6000)
    }

    @Test func everyLastSignatureCharacterVariantIsRejected() {
        // Each alphabet byte at the last position: non-canonical spellings of the same bytes must not pass.
        let verifier = Fixtures.verifier()
        let token = Fixtures.token()
        var bytes = Array(token.utf8)
        let last = bytes.count - 1
        let original = bytes[last]
        for c in Self.alphabet where c != original {
            bytes[last] = c
            #expect(verifier.verify(token: String(decoding: bytes, as: UTF8.self)).failure != nil)
        }
    }
}
