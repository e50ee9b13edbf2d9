import Dispatch
import GatewayCore
import GatewayReplay

/// Test helpers: a store's asynchronous answers, waited for. nil means no answer came (a hang), which every caller
/// treats as a failure.
enum StoreAnswers {
    static func admit(_ store: any ReplayStore, app: String = "app", jti: String,
                      until: Int64 = SystemClock().wallSeconds() + 120) -> ReplayAdmission? {
        let box = Locked<ReplayAdmission?>(nil)
        let done = DispatchSemaphore(value: 0)
        store.admit(app: app, jti: jti, until: until) { a in box.withLock { $0 = a }; done.signal() }
        guard done.wait(timeout: .now() + 15) == .success else { return nil }
        return box.withLock { $0 }
    }

    static func ready(_ store: any ReplayStore) -> Bool? {
        let box = Locked<Bool?>(nil)
        let done = DispatchSemaphore(value: 0)
        store.isReady { r in box.withLock { $0 = r }; done.signal() }
        guard done.wait(timeout: .now() + 15) == .success else { return nil }
        return box.withLock { $0 }
    }
}
