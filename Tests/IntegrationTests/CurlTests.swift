import Foundation
import Testing

/// The same paths a developer tries by hand, with a real HTTP client (curl).
@Suite final class CurlTests {
    let stack: TestStack

    init() throws { stack = try TestStack() }
    deinit { stack.stop() }

    func curl(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(tool("curl"), ["-sS", "--max-time", "20"] + args)
    }

    @Test func getWithTokenAndWithout() throws {
        let ok = try curl(["-H", "Authorization: Bearer \(Tok.valid())", "http://127.0.0.1:\(stack.port)/hi?x=1"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [String: Any])
        #expect(json["path"] as? String == "/hi?x=1")
        #expect((json["headers"] as? [String: String])?["x-shop-domain"] == "a.myshopify.com")

        let denied = try curl(["-D", "-", "-o", "/dev/null", "http://127.0.0.1:\(stack.port)/hi"])
        #expect(denied.stdout.hasPrefix("HTTP/1.1 401"))
        #expect(denied.stdout.contains(#"WWW-Authenticate: Bearer realm="session-gateway""#))
    }

    @Test func chunkedAndLargeUploadsWithExpect() throws {
        let body = patternBytes(3 << 20, seed: 3)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("itest-body-\(UUID().uuidString)")
        try Data(body).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        // curl sends `Expect: 100-continue` for a body this large, and chunked when asked to.
        for extra in [[String](), ["-H", "Transfer-Encoding: chunked"]] {
            let r = try curl(["-H", "Authorization: Bearer \(Tok.valid())", "--data-binary", "@\(file.path)"] + extra
                             + ["http://127.0.0.1:\(stack.port)/upload"])
            #expect(r.status == 0, "\(r.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
            #expect(json["body_bytes"] as? Int == body.count)
            #expect(json["body_sha256"] as? String == sha256Hex(body))
        }
    }

    @Test func keepAliveAcrossSeveralURLs() throws {
        let url = "http://127.0.0.1:\(stack.port)/public/"
        let r = try curl(["-v", url + "a", url + "b", url + "c"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("Re-using existing connection"), "curl should reuse one client connection: \(r.stderr)")
        #expect(r.stdout.components(separatedBy: "\"method\":\"GET\"").count == 4)
    }
}
