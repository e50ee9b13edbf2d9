/// Where the three base64url segments of a compact JWS sit inside the token bytes.
struct TokenSegments {
    /// Tokens longer than this are malformed outright (Shopify's are well under 1 KiB).
    static let maxTokenBytes = 8192

    let header: Range<Int>
    let payload: Range<Int>
    let signature: Range<Int>

    /// The bytes the MAC covers: `header.payload`.
    var signingInput: Range<Int> { header.lowerBound..<payload.upperBound }

    /// Splits `token`: exactly two dots, three non-empty segments, base64url alphabet only; else nil.
    static func split(_ token: UnsafeBufferPointer<UInt8>) -> TokenSegments? {
        let n = token.count
        guard n > 0, n <= maxTokenBytes else { return nil }
        var firstDot = -1
        var secondDot = -1
        let shapeOK = Base64URL.table.withUnsafeBufferPointer { table in
            for i in 0..<n {
                let c = token[i]
                if table[Int(c)] != 0xFF { continue }
                guard c == UInt8(ascii: ".") else { return false }
                if firstDot < 0 { firstDot = i } else if secondDot < 0 { secondDot = i } else { return false }
            }
            return true
        }
        guard shapeOK else { return nil }
        guard firstDot > 0, secondDot > firstDot + 1, secondDot < n - 1 else { return nil }
        return TokenSegments(header: 0..<firstDot, payload: (firstDot + 1)..<secondDot, signature: (secondDot + 1)..<n)
    }
}
