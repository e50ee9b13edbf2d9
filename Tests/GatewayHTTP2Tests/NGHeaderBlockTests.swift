@testable import GatewayHTTP2
import GatewayCore
import Testing

@Suite struct NGHeaderBlockTests {
    /// The block as `name=value` strings, read back through the `nghttp2_nv` array nghttp2 gets.
    static func fields(_ block: NGHeaderBlock, values: [UInt8] = []) -> [String] {
        block.withNV(values: values) { nva, n in
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

    @Test func valuesLeftInPlaceReadTheSameAsCopiedOnes() {
        var fields = HTTPHeaders([("Content-Type", "Text/Plain"), ("Connection", "close"), ("X-Big", String(repeating: "v", count: 300)),
                                  ("X-Request-ID", "AbC"), ("Empty", "")])
        fields.append(name: "X-Added", value: "later")
        var copied = NGHeaderBlock()
        copied.append(":status", decimal: 200)
        copied.appendForwardable(fields)
        copied.append("content-length", decimal: 3)
        var inPlace = NGHeaderBlock()
        inPlace.append(":status", decimal: 200)
        inPlace.appendForwardable(fields, valuesInPlace: true)
        inPlace.append("content-length", decimal: 3)
        let expected = NGHeaderBlockTests.fields(copied)
        #expect(expected.count == 7)
        #expect(NGHeaderBlockTests.fields(inPlace, values: fields.storage) == expected)
        // Without the fields' storage, in-place values come out empty, never read out of bounds.
        #expect(NGHeaderBlockTests.fields(inPlace).filter { $0.hasSuffix("=") }.count == 5)
    }
}
