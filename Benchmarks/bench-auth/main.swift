import GatewayAuth
import GatewayCore

/// Verifies distinct valid tokens single-threaded for about two seconds and prints tokens/s.
func runBenchAuth() {
    let count = 20_000
    let clock = SystemClock()
    let now = clock.wallSeconds()
    let current = Array("bench-current-secret-0123456789abcdef".utf8)
    let previous = Array("bench-previous-secret-0123456789abcde".utf8)
    let verifier = TokenVerifier(
        settings: VerifierSettings(apps: [AppKeys(clientId: "bench-client", secrets: [current, previous])]),
        clock: clock)

    func mint(secret: [UInt8], tag: String) -> [String] {
        (0..<count).map { i in
            TokenMinter.mint(shop: "shop-\(i % 997).myshopify.com", clientId: "bench-client", issuedAt: now,
                             jti: "\(tag)-\(i)-6f1c2b3d-7c43-4b0c-9a61", subject: "gid://shopify/Customer/\(1_000_000 + i)",
                             secret: secret)
        }
    }

    func measure(_ label: String, _ tokens: [String]) {
        for token in tokens.prefix(100) {
            guard case .success = verifier.verify(authorization: "Bearer " + token) else {
                print("bench-auth: a minted token was rejected; aborting")
                return
            }
        }
        let headers = tokens.map { "Bearer " + $0 }
        var verified = 0
        var accepted = 0
        let start = clock.monotonicNanos()
        var elapsed: UInt64 = 0
        while elapsed < 2_000_000_000 {
            for header in headers {
                if case .success = verifier.verify(authorization: header) { accepted += 1 }
            }
            verified += headers.count
            elapsed = clock.monotonicNanos() - start
        }
        let perSecond = Double(verified) / (Double(elapsed) / 1e9)
        let microseconds = Double(elapsed) / 1e3 / Double(verified)
        print("bench-auth \(label): \(verified) tokens in \(Double(elapsed) / 1e9) s = \(Int(perSecond)) tokens/s"
            + " (\(String(format: microseconds)) µs/token, accepted \(accepted))")
    }

    measure("current secret ", mint(secret: current, tag: "c"))
    measure("previous secret", mint(secret: previous, tag: "p"))
}

func String(format value: Double) -> String {
    let scaled = (value * 100).rounded() / 100
    return "\(scaled)"
}

runBenchAuth()
