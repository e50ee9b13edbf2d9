import GatewayLoop
import Testing

/// Brackets mean IPv6 and IPv6 needs brackets: no address has two readings.
@Suite struct SocketAddressStrictnessTests {
    @Test(arguments: ["[127.0.0.1]:80", "::1:80", "[localhost]:80", "fe80::1:443"])
    func ambiguousFormsAreRefused(_ text: String) {
        #expect(throws: SocketAddress.ParseError.self) { try SocketAddress(parsing: text) }
    }

    @Test func bracketedIPv6AndPlainIPv4Parse() throws {
        #expect(try SocketAddress(parsing: "[::1]:8080").description == "[::1]:8080")
        #expect(try SocketAddress(parsing: "127.0.0.1:80").description == "127.0.0.1:80")
    }
}
