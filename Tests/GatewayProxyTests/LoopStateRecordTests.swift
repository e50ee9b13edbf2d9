import GatewayAuth
import Testing
@testable import GatewayProxy

/// Which finished exchanges count in `gateway_auth_rejections_total`.
@Suite struct LoopStateRecordTests {
    /// An upstream's own 401 or 403 reaches the client with the gateway's auth outcome still in `auth`.
    @Test(arguments: [401, 403], ["accepted", "anonymous", "none"])
    func upstreamRejectionsAreNotCounted(status: Int, auth: String) {
        #expect(LoopState.authRejection(status: status, auth: auth) == nil)
    }

    @Test(arguments: AuthFailure.allCases)
    func gatewayRejectionsAreCountedByCode(_ failure: AuthFailure) {
        #expect(LoopState.authRejection(status: failure.status, auth: failure.rawValue) == failure.rawValue)
    }

    @Test func otherStatusesAreNotRejections() {
        #expect(LoopState.authRejection(status: 200, auth: "accepted") == nil)
        #expect(LoopState.authRejection(status: 503, auth: "replay_store_unavailable") == nil)
        #expect(LoopState.authRejection(status: 400, auth: "none") == nil)
        #expect(LoopState.authRejection(status: 500, auth: "token_expired") == nil)
    }
}
