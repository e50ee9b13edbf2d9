import Dispatch
import Testing
@testable import GatewayAuth

@Suite struct SharedVerifierTests {
    /// One verifier, many threads at once: the prepared HMAC keys are only read, so every answer stays right.
    @Test func concurrentVerificationGivesTheSameAnswers() {
        let verifier = Fixtures.verifier()
        let good = (0..<64).map { Fixtures.token([("jti", .string("j-\($0)"))]) }
        let bad = good.map { Fixtures.token([("jti", .string($0.suffix(8).description))], secret: Fixtures.otherAppSecret) }
        let wrong = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for i in 0..<good.count {
                if verifier.verify(token: good[i]).failure != nil { wrong.add() }
                if verifier.verify(token: bad[i]).failure != .invalidSignature { wrong.add() }
            }
        }
        #expect(wrong.value == 0)
    }

    @Test func emptyAndLongSecretsSignAndVerify() {
        for secret in [[UInt8](), [UInt8](repeating: 7, count: 200)] {
            let token = TokenMinter.mint(claims: [("a", .int(1))], secret: secret)
            #expect(JWS.verifyHS256(token: token, key: secret))
            #expect(!JWS.verifyHS256(token: token, key: [1]))
        }
    }
}

import GatewayCore

final class Counter: Sendable {
    private let count = Locked(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
