@testable import GatewayHTTP2
import GatewayCore
import Testing

@Suite struct NGHeaderBlockTests {
    /// The block as `name=value` strings, read back through the `nghttp2_nv` array nghttp2 gets.
    static func fields(_ block: NGHeaderBlock) -> [String] {
        block.withNV { nva, n in
            (0..<n).map { i in
                let nv = nva![i]
                let name = String(decoding: UnsafeBufferPointer(start: nv.name, count: nv.namelen), as: UTF8.self)
                let value = String(decoding: UnsafeBufferPointer(start: nv.value, count: nv.valuelen), as: UTF8.self)
                return "\(name)=\(value)"
            }
        }
    }

    @Test func decimalValuesAreWrittenDigitByDigit() {
        var block = NGHeaderBlock()
        for n in [0, 7, 10, 204, 1_500_000, Int.max] { block.append("content-length", decimal: n) }
        #expect(NGHeaderBlockTests.fields(block) == [0, 7, 10, 204, 1_500_000, Int.max].map { "content-length=\($0)" })
    }

    @Test func forwardableFieldsAreLowerCasedAndConnectionSpecificOnesDropped() {
        var block = NGHeaderBlock()
        block.append(":status", decimal: 200)
        block.appendForwardable(HTTPHeaders([("Content-Type", "Text/Plain"), ("Connection", "close"),
                                             ("X-Request-ID", "AbC"), ("TE", "trailers"), ("x-Seen-SHOP", "s.myshopify.com")]))
        // Values keep their case; only names are folded.
        #expect(NGHeaderBlockTests.fields(block) == [":status=200", "content-type=Text/Plain", "x-request-id=AbC",
                                                    "x-seen-shop=s.myshopify.com"])
        block.reset()
        #expect(block.count == 0)
    }
}
