import Testing
@testable import GatewayAuth

@Suite struct FlatJSONReaderTests {
    private func parse(_ s: String) -> FlatJSONReader.Members? {
        FlatJSONReader.parseObject(Array(s.utf8))
    }

    private func value(_ s: String, _ key: String = "k") -> JSONValue? {
        parse(s)?.first { $0.key == key }?.value
    }

    @Test func readsScalars() {
        let m = parse(#" { "s" : "x" , "n" : -12 , "t" : true , "f" : false , "z" : null } "#)
        #expect(m?.map(\.key) == ["s", "n", "t", "f", "z"])
        #expect(m?.map(\.value) == [.string("x"), .number(-12), .bool(true), .bool(false), .null])
        #expect(parse("{}")?.isEmpty == true)
    }

    @Test func unescapesStrings() {
        #expect(value(#"{"k":"a\"b\\c\/d\b\f\n\r\t"}"#) == .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        #expect(value(#"{"k":"\u00e9\u20AC"}"#) == .string("é€"))
        #expect(value(#"{"k":"\ud83d\ude00"}"#) == .string("😀"))
        #expect(value(#"{"k":"\u0000"}"#) == .string("\u{0}"))
        #expect(value(#"{"\u006b":"escaped key"}"#) == .string("escaped key"))
        #expect(value(#"{"k":"é raw"}"#) == .string("é raw"))
    }

    @Test(arguments: [
        #"{"k":"\ud83d"}"#, #"{"k":"\ude00"}"#, #"{"k":"\x"}"#, #"{"k":"\u12"}"#, "{\"k\":\"a\nb\"}",
        #"{"k":1,}"#, #"{"k":01}"#, #"{"k":1.}"#, #"{"k":.5}"#, #"{"k":1e}"#, #"{"k":+1}"#, #"{"k":tru}"#,
        #"{"k":1} {}"#, #"{"k" 1}"#, #"{k:1}"#, #"{"k":1"#, "", "[]", #"{"k":1,"k":2}"#, #"{"k":'x'}"#,
        #"{"k":[1,]}"#, #"{"k":[[[[[[[[[[1]]]]]]]]]]}"#, #"{"k":NaN}"#,
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(parse(text) == nil)
    }

    @Test func rejectsInvalidUTF8() {
        #expect(FlatJSONReader.parseObject([0x7B, 0x22, 0x6B, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]) == nil)
        #expect(FlatJSONReader.parseObject([0x7B, 0x22, 0x6B, 0x22, 0x3A, 0x22, 0x5C, 0x6E, 0xC3, 0x22, 0x7D]) == nil)
    }

    @Test func numbers() {
        #expect(value(#"{"k":1700000300}"#) == .number(1_700_000_300))
        #expect(value(#"{"k":1700000300.99}"#) == .number(1_700_000_300))
        #expect(value(#"{"k":-0.5}"#) == .number(-1))
        #expect(value(#"{"k":1.3e9}"#) == .number(1_300_000_000))
        #expect(value(#"{"k":0}"#) == .number(0))
        #expect(value(#"{"k":99999999999999999999}"#) == .number(nil))
        #expect(value(#"{"k":1e400}"#) == nil)
    }

    @Test func nestedValuesAreSkipped() {
        let m = parse(#"{"a":{"b":[1,{"c":"d"}]},"aud":["x","y"],"mix":["x",1],"e":[]}"#)
        #expect(m?.map(\.value) == [.other, .stringArray(["x", "y"]), .other, .stringArray([])])
    }

    @Test func tooManyMembersIsRejected() {
        let many = "{" + (0...FlatJSONReader.maxMembers).map { "\"k\($0)\":1" }.joined(separator: ",") + "}"
        #expect(parse(many) == nil)
    }
}
