import GatewayLoop
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("SocketAddress")
struct SocketAddressTests {
    @Test("parses numeric host:port and [v6]:port", arguments: [
        ("127.0.0.1:80", AF_INET, "127.0.0.1", 80, "127.0.0.1:80"),
        ("[::1]:8080", AF_INET6, "::1", 8080, "[::1]:8080"),
        ("0.0.0.0:0", AF_INET, "0.0.0.0", 0, "0.0.0.0:0"),
        ("localhost:1", AF_INET, "127.0.0.1", 1, "127.0.0.1:1"),
        ("10.1.2.3:65535", AF_INET, "10.1.2.3", 65535, "10.1.2.3:65535"),
        ("[2001:db8::a]:443", AF_INET6, "2001:db8::a", 443, "[2001:db8::a]:443"),
        ("[::]:9901", AF_INET6, "::", 9901, "[::]:9901"),
    ])
    func parses(text: String, family: Int32, ip: String, port: Int, description: String) throws {
        let a = try SocketAddress(parsing: text)
        #expect(a.family == family)
        #expect(a.ipString == ip)
        #expect(a.port == port)
        #expect(a.description == description)
        #expect(Int(a.length) == (family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size))
        // The description parses back to the same address.
        let again = try SocketAddress(parsing: a.description)
        #expect(again.description == a.description)
    }

    @Test("rejects what is not a numeric host and port", arguments: [
        "1.2.3.4", "[::1]", "host:99999", ":80", "a b:1", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+80",
        "1.2.3.4:8o", "999.1.1.1:80", "example.com:80", "[::1]80", "[::1]:", "", ":",
    ])
    func rejects(text: String) {
        #expect(throws: SocketAddress.ParseError.self) { try SocketAddress(parsing: text) }
    }

    @Test("resolve answers a name, and numeric text without a lookup")
    func resolve() throws {
        let local = try SocketAddress.resolve("localhost:80")
        #expect(local.family == AF_INET)
        #expect(local.ipString == "127.0.0.1")
        #expect(local.port == 80)
        let v6 = try SocketAddress.resolve("[::1]:8443")
        #expect(v6.description == "[::1]:8443")
        #expect(try SocketAddress.resolve("192.0.2.7:9").description == "192.0.2.7:9")
    }

    @Test("resolve rejects malformed text before any lookup", arguments: ["localhost", "localhost:http", ":80", "[::1]:x", "localhost:70000"])
    func resolveRejects(text: String) {
        #expect(throws: SocketAddress.ParseError.self) { try SocketAddress.resolve(text) }
    }
}

@Suite("SocketAddress unix")
struct SocketAddressUnixTests {
    @Test func unixPathRoundTrips() throws {
        let a = try SocketAddress.resolve("unix:/run/app.sock")
        #expect(a.family == AF_UNIX)
        #expect(a.isUnix == true)
        #expect(a.unixPath == "/run/app.sock")
        #expect(a.description == "unix:/run/app.sock")
        #expect(a.port == 0)
        #expect(a == (try SocketAddress(unixPath: "/run/app.sock")))
        #expect(a != (try SocketAddress(unixPath: "/run/app.sock2")))
    }

    @Test func unixPathBound() throws {
        let fits = "/" + String(repeating: "a", count: SocketAddress.maxUnixPathBytes - 1)
        #expect(SocketAddress.maxUnixPathBytes == 107)
        #expect((try SocketAddress(unixPath: fits)).unixPath == fits)
        #expect(throws: SocketAddress.ParseError.self) { try SocketAddress(unixPath: fits + "b") }
        #expect(throws: SocketAddress.ParseError.self) { try SocketAddress(unixPath: "") }
    }

    @Test func ipAddressesCompareByValue() throws {
        #expect((try SocketAddress(parsing: "127.0.0.1:80")) == (try SocketAddress(parsing: "127.0.0.1:80")))
        #expect((try SocketAddress(parsing: "127.0.0.1:80")) != (try SocketAddress(parsing: "127.0.0.2:80")))
    }
}
