import GatewayCore
import Testing

/// `IPAddress`, `CIDR` and `TrustedProxies`: parsing, matching, and the access log's client from a chain.
@Suite struct CIDRTests {
    @Test func parsesIPv4AndIPv6Addresses() {
        #expect(IPAddress.parse("192.0.2.1") == .v4(0xC000_0201))
        #expect(IPAddress.parse("::1") == .v6(0, 1))
        #expect(IPAddress.parse("::") == .v6(0, 0))
        #expect(IPAddress.parse("2001:db8::1") == .v6(0x2001_0db8_0000_0000, 1))
        #expect(IPAddress.parse("2001:DB8:0:0:0:0:0:1") == .v6(0x2001_0db8_0000_0000, 1))
        #expect(IPAddress.parse("fe80::1") == .v6(0xfe80_0000_0000_0000, 1))
        #expect(IPAddress.parse("1::") == .v6(0x0001_0000_0000_0000, 0))
        #expect(IPAddress.parse("64:ff9b::192.0.2.1") == .v6(0x0064_ff9b_0000_0000, 0xC000_0201))
        // IPv4-mapped is the IPv4 address (a dual-stack listener reports IPv4 peers this way).
        #expect(IPAddress.parse("::ffff:192.0.2.1") == .v4(0xC000_0201))
        #expect(IPAddress.parse("fe80::1%eth0", allowZone: true) == .v6(0xfe80_0000_0000_0000, 1))
    }

    @Test func printsIPv6TheRFC5952Way() throws {
        for (written, printed) in [("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("::", "::"), ("::1", "::1"), ("1::", "1::"),
                                   ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
                                   ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"), ("1:0:0:2:3:0:0:4", "1::2:3:0:0:4"),
                                   ("203.0.113.9", "203.0.113.9")] {
            #expect(try #require(IPAddress.parse(written)).description == printed)
        }
    }

    @Test func refusesWhatIsNotANumericAddress() {
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", " 1.2.3.4", "1..2.3", "a.b.c.d",
                    "localhost", ":", ":::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1::2::3", "12345::", "1:",
                    ":1", "[::1]", "::1%eth0", "%eth0", "1.2.3.4/8", "::ffff:1.2.3", "g::1"] {
            #expect(IPAddress.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func parsesRangesAndBareAddresses() throws {
        #expect(try CIDR.parse("10.0.0.0/8").description == "10.0.0.0/8")
        #expect(try CIDR.parse("127.0.0.1").prefixLength == 32)
        #expect(try CIDR.parse("::1").prefixLength == 128)
        #expect(try CIDR.parse("2001:db8::/32").prefixLength == 32)
        #expect(try CIDR.parse("0.0.0.0/0").prefixLength == 0)
        #expect(try CIDR.parse("::/0").prefixLength == 0)
        #expect(try CIDR.parse("2001:db8::1/128").prefixLength == 128)
        #expect(try CIDR.parse("2001:db8:0:0:8000::/65").prefixLength == 65)
    }

    @Test func refusesBadRangesWithTypedErrors() {
        #expect(throws: CIDRError.invalidAddress("10.0.0/8")) { try CIDR.parse("10.0.0/8") }
        #expect(throws: CIDRError.invalidAddress("example.com")) { try CIDR.parse("example.com") }
        #expect(throws: CIDRError.invalidPrefixLength("10.0.0.0/33")) { try CIDR.parse("10.0.0.0/33") }
        #expect(throws: CIDRError.invalidPrefixLength("::/129")) { try CIDR.parse("::/129") }
        #expect(throws: CIDRError.invalidPrefixLength("10.0.0.0/")) { try CIDR.parse("10.0.0.0/") }
        #expect(throws: CIDRError.invalidPrefixLength("10.0.0.0/08")) { try CIDR.parse("10.0.0.0/08") }
        #expect(throws: CIDRError.invalidPrefixLength("10.0.0.0/-1")) { try CIDR.parse("10.0.0.0/-1") }
        #expect(throws: CIDRError.invalidPrefixLength("10.0.0.0/8/8")) { try CIDR.parse("10.0.0.0/8/8") }
        #expect(throws: CIDRError.hostBitsSet("10.1.2.3/8", network: "10.0.0.0/8")) { try CIDR.parse("10.1.2.3/8") }
        #expect(throws: CIDRError.hostBitsSet("2001:db8::1/64", network: "2001:db8::/64")) {
            try CIDR.parse("2001:db8::1/64")
        }
    }

    @Test func matchesAddressesInsideTheRangeOnly() throws {
        let ten = try CIDR.parse("10.0.0.0/8")
        #expect(ten.contains(try #require(IPAddress.parse("10.255.0.1"))) == true)
        #expect(ten.contains(try #require(IPAddress.parse("11.0.0.0"))) == false)
        #expect(ten.contains(try #require(IPAddress.parse("::ffff:10.1.1.1"))) == true)
        #expect(ten.contains(try #require(IPAddress.parse("::a00:1"))) == false)
        let v6 = try CIDR.parse("2001:db8::/33")
        #expect(v6.contains(try #require(IPAddress.parse("2001:db8:7fff::1"))) == true)
        #expect(v6.contains(try #require(IPAddress.parse("2001:db8:8000::1"))) == false)
        let odd = try CIDR.parse("2001:db8:0:0:8000::/65")
        #expect(odd.contains(try #require(IPAddress.parse("2001:db8::ffff:0:0:1"))) == true)
        #expect(odd.contains(try #require(IPAddress.parse("2001:db8::7fff:0:0:1"))) == false)
        let all = try CIDR.parse("0.0.0.0/0")
        #expect(all.contains(try #require(IPAddress.parse("203.0.113.9"))) == true)
        #expect(all.contains(try #require(IPAddress.parse("::1"))) == false)
    }

    @Test func trustedSetMatchesTextAndNeverGarbage() throws {
        let set = TrustedProxies([try CIDR.parse("127.0.0.1"), try CIDR.parse("fd00::/8")])
        #expect(set.contains("127.0.0.1") == true)
        #expect(set.contains("127.0.0.2") == false)
        #expect(set.contains("fd12::5") == true)
        #expect(set.contains("fe80::1%lo") == false)
        #expect(set.contains("unknown") == false)
        #expect(TrustedProxies().contains("127.0.0.1") == false)
    }

    @Test func clientIsTheFirstUntrustedAddressFromTheRight() throws {
        let set = TrustedProxies([try CIDR.parse("10.0.0.0/8")])
        // Untrusted peer: the peer, whatever the chain says.
        #expect(set.clientAddress(forwardedFor: ["10.0.0.1"], peer: "198.51.100.4") == "198.51.100.4")
        // Trusted peer, trusted hops skipped.
        #expect(set.clientAddress(forwardedFor: ["203.0.113.9", "198.51.100.1", "10.0.0.2"], peer: "10.0.0.1") == "198.51.100.1")
        // All trusted: the leftmost.
        #expect(set.clientAddress(forwardedFor: ["10.0.0.3", "10.0.0.2"], peer: "10.0.0.1") == "10.0.0.3")
        // No chain: the peer.
        #expect(set.clientAddress(forwardedFor: [], peer: "10.0.0.1") == "10.0.0.1")
        // Garbage stops the walk at the trusted address to its right.
        #expect(set.clientAddress(forwardedFor: ["<script>", "10.0.0.2"], peer: "10.0.0.1") == "10.0.0.2")
        #expect(TrustedProxies.entries(["203.0.113.9 , 10.0.0.2", "", " ,10.0.0.3"]) == ["203.0.113.9", "10.0.0.2", "10.0.0.3"])
    }
}
