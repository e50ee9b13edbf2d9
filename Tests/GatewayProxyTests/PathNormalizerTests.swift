import Testing
@testable import GatewayProxy

@Suite struct PathNormalizerTests {
    @Test(arguments: [
        ("/", "/"),
        ("/a/b", "/a/b"),
        ("/a/./b", "/a/b"),
        ("/a/../b", "/b"),
        ("/a/b/..", "/a/"),
        ("/a/.", "/a/"),
        ("/..", "/"),
        ("/.", "/"),
        ("/../x", "/x"),
        ("/../../../x", "/x"),
        ("//x", "//x"),
        ("/a//b", "/a//b"),
        ("/a//../b", "/a/b"),
        ("/%2e%2e/admin", "/admin"),
        ("/public/%2E%2E/admin", "/admin"),
        ("/a/%2E/b", "/a/b"),
        ("/a/.%2e/b", "/b"),
        ("/%61dmin", "/admin"),
        ("/a%7eb", "/a~b"),
        ("/a%20b", "/a%20b"),
        ("/a%3fb", "/a%3Fb"),
        ("/.hidden/x", "/.hidden/x"),
        ("/a/...", "/a/..."),
        ("/a/", "/a/"),
    ])
    func normalizesPath(_ input: String, _ expected: String) {
        #expect(PathNormalizer.normalize(input)?.path == expected)
    }

    @Test func queryIsPassedVerbatim() throws {
        let t = try #require(PathNormalizer.normalize("/a/../b?x=/../y&z=%2e%2F"))
        #expect(t.path == "/b")
        #expect(t.query == "x=/../y&z=%2e%2F")
        #expect(t.originForm == "/b?x=/../y&z=%2e%2F")
    }

    @Test func emptyQueryIsKept() throws {
        let t = try #require(PathNormalizer.normalize("/a?"))
        #expect(t.query == "")
        #expect(t.originForm == "/a?")
        #expect(PathNormalizer.normalize("/a")?.query == nil)
    }

    @Test(arguments: [
        "", "*", "a/b", "http://example.com/a", "\\a", "/a\\b", "/a%5cb", "/a%5Cb",
        "/a%2fb", "/a%2F..%2Fadmin", "/a%00b", "/a?x=%00", "/a%", "/a%4", "/a%zz", "/a?x=%g1",
        "/a b", "/a\tb", "/a#frag", "/caf\u{E9}", "/a\u{7F}",
        "/public/..;/admin", "/a/.;x/b", "/..;",
    ])
    func refuses(_ input: String) {
        #expect(PathNormalizer.normalize(input) == nil)
    }

    /// `..%3B` is `..;` to a backend or filter that decodes before it drops path parameters.
    @Test(arguments: [
        "/public/..%3B/admin", "/public/..%3b/admin", "/a/.%3B/b", "/a/.%3bx/b", "/..%3B", "/a/%2e%2e%3b/b",
        "/a/.%2e%3Bx", "/a/%2E%3B", "/public/..%3B?x=1",
    ])
    func refusesDotSegmentsWithEscapedSemicolon(_ input: String) {
        #expect(PathNormalizer.normalize(input) == nil)
    }

    /// Only matching skips `;` parameters: the backend receives them, so it acts on the path that was routed.
    @Test func semicolonParametersAreForwarded() {
        #expect(PathNormalizer.normalize("/admin;x")?.path == "/admin;x")
        #expect(PathNormalizer.normalize("/admin;jsessionid=1/users;v=2?q=1")?.originForm == "/admin;jsessionid=1/users;v=2?q=1")
        #expect(PathNormalizer.normalize("/a/%3B/b")?.path == "/a/%3B/b")
        #expect(PathNormalizer.normalize("/a/x%3b/../b")?.path == "/a/b")
        #expect(PathNormalizer.normalize("/a/...%3B")?.path == "/a/...%3B")
    }

    @Test func segmentsMerelyContainingDotsAndSemicolonsPass() {
        #expect(PathNormalizer.normalize("/a;b/.x;y")?.path == "/a;b/.x;y")
        #expect(PathNormalizer.normalize("/a/..b")?.path == "/a/..b")
    }

    /// The plain-path shortcut of `normalize(_:)` must agree with the byte normalizer on every target, including
    /// random ones over the characters that matter.
    @Test func plainPathShortcutAgreesWithTheFullNormalizer() {
        func full(_ t: String) -> NormalizedTarget? {
            var t = t
            return t.withUTF8 { PathNormalizer.normalize(bytes: $0) }
        }
        var targets = ["/", "/a", "/api/customer", "/a/.b", "/a./b", "/.", "/a/.", "/a?", "/a#", "/a%41", "/a\\b",
                       "/a b", "//", "/~user/x-y_z", "a", ""]
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("/.a%?#\\ ~;".utf8) + [0x7F, 0x80]
        for _ in 0..<5000 {
            let n = Int.random(in: 1...8, using: &rng)
            let bytes = [UInt8(ascii: "/")] + (0..<n).map { _ in alphabet.randomElement(using: &rng) ?? 0x61 }
            targets.append(String(decoding: bytes, as: UTF8.self))
        }
        for t in targets {
            #expect(PathNormalizer.normalize(t) == full(t), "\(t.debugDescription)")
        }
    }
}
