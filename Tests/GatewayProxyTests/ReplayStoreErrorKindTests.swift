import GatewayReplay
import Testing
@testable import GatewayProxy

/// `gateway_replay_store_errors_total{kind}`: every store answer that is not a verdict has exactly one kind.
@Suite struct ReplayStoreErrorKindTests {
    @Test func verdictsAreNoErrors() {
        #expect(ReplayStoreErrorKind(.fresh) == nil)
        #expect(ReplayStoreErrorKind(.replayed) == nil)
    }

    @Test func eachFailureHasItsKind() {
        #expect(ReplayStoreErrorKind(.full) == .full)
        #expect(ReplayStoreErrorKind(.unavailable(.timeout)) == .timeout)
        #expect(ReplayStoreErrorKind(.unavailable(.connection)) == .connection)
        #expect(ReplayStoreErrorKind(.unavailable(.reply)) == .reply)
        #expect(ReplayStoreErrorKind.allCases.map(\.rawValue) == ["timeout", "connection", "reply", "full"])
        #expect(ReplayStoreErrorKind.allCases.map(\.index) == [0, 1, 2, 3])
    }
}
