import Foundation
import GatewayCore
import Testing

@Suite("String.jsonEscaped")
struct JSONEscapingTests {
    @Test("escapes what JSON requires", arguments: [
        ("plain", "plain"),
        ("a\"b", "a\\\"b"),
        ("a\\b", "a\\\\b"),
        ("line\nnext", "line\\nnext"),
        ("cr\r", "cr\\r"),
        ("tab\t", "tab\\t"),
        ("\u{00}", "\\u0000"),
        ("\u{01}", "\\u0001"),
        ("\u{08}", "\\u0008"),
        ("\u{0C}", "\\u000c"),
        ("\u{1B}[31m", "\\u001b[31m"),
        ("\u{1F}", "\\u001f"),
        ("\u{7F}", "\\u007f"),
        ("/", "/"),
        ("", ""),
    ])
    func escapes(input: String, escaped: String) {
        #expect(input.jsonEscaped == escaped)
    }

    @Test("passes non-ASCII text through unchanged")
    func unicode() {
        let text = "café ünïcødé 日本 😀 \u{2028}"
        #expect(text.jsonEscaped == text)
    }

    @Test("the escaped form decodes back to the original with a real JSON parser")
    func roundTrip() throws {
        var all = ""
        for v in 0..<0x80 { all.unicodeScalars.append(Unicode.Scalar(UInt8(v))) }
        all += "\"\\é😀"
        let document = "[\"" + all.jsonEscaped + "\"]"
        let decoded = try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String]
        #expect(decoded == [all])
    }
}
