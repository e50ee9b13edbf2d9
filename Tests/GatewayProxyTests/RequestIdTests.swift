import Testing
@testable import GatewayProxy

@Suite struct RequestIdTests {
    @Test func keepsSaneValues() {
        #expect(RequestId.sanitized("abc-123_X.y:z") == "abc-123_X.y:z")
        #expect(RequestId.sanitized("a") == "a")
        #expect(RequestId.sanitized(String(repeating: "a", count: 128)) != nil)
    }

    @Test func rejectsInsaneValues() {
        #expect(RequestId.sanitized(nil) == nil)
        #expect(RequestId.sanitized("") == nil)
        #expect(RequestId.sanitized(String(repeating: "a", count: 129)) == nil)
        #expect(RequestId.sanitized("a b") == nil)
        #expect(RequestId.sanitized("a\"b") == nil)
        #expect(RequestId.sanitized("<script>") == nil)
        #expect(RequestId.sanitized("caf\u{E9}") == nil)
    }

    @Test func generatedIdsAreSaneAndDistinct() {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = RequestId.generate()
            #expect(id.utf8.count == RequestId.generatedLength)
            #expect(id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x76).contains($0) })
            #expect(RequestId.sanitized(id) == id)
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }
}
