import Testing
@testable import GatewayProxy

@Suite struct TriedServersTests {
    @Test func remembersLowAndHighIndicesAndForgetsThemAll() {
        var t = TriedServers()
        for i in [0, 5, 63, 64, 200] { #expect(!t.contains(i)) }
        for i in [0, 5, 63, 64, 200] { t.insert(i) }
        for i in [0, 5, 63, 64, 200] { #expect(t.contains(i)) }
        for i in [1, 62, 65, 199] { #expect(!t.contains(i)) }
        t.removeAll()
        for i in [0, 5, 63, 64, 200] { #expect(!t.contains(i)) }
    }
}
