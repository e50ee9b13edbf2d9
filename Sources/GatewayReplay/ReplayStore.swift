/// The answer of a replay store to "has this `(app, jti)` been seen?".
public enum ReplayAdmission: Sendable, Equatable {
    /// First use: recorded until its expiry.
    case fresh
    /// Seen before and not yet expired: `401 token_replayed`.
    case replayed
    /// The store is at `max_entries`: `503 replay_store_full` (never silent eviction).
    case full
    /// A networked store gave no usable answer, for this reason (`on_unavailable` decides what follows).
    case unavailable(ReplayStoreFault)
}

/// Why a networked store could not answer an admit; the `kind` of `gateway_replay_store_errors_total`.
public enum ReplayStoreFault: String, Sendable, CaseIterable {
    /// No answer within `timeout` (the connect and login count against it).
    case timeout
    /// Redis could not be reached: refused, reset, closed, a refused login, or the backoff after one of those.
    case connection
    /// Redis answered, but not with a verdict: an error reply (`OOM`, `READONLY`, `NOAUTH`, `CLUSTERDOWN`...), a
    /// reply `SET` cannot give, or bytes that are not RESP.
    case reply
}

/// Records token ids once until they expire. Shaped for networked stores: the answer comes through a completion.
///
/// `completion` may run before `admit` returns (in-memory store) or later on any thread (networked store);
/// callers hop back to their own loop.
public protocol ReplayStore: AnyObject, Sendable {
    /// Atomically records `(app, jti)` until `until` (Unix seconds) unless already present.
    func admit(app: String, jti: String, until: Int64, completion: @escaping @Sendable (ReplayAdmission) -> Void)
    /// Forgets `(app, jti)` again: its request never reached an upstream (connect refused, no connection in
    /// time), so the client may retry with the same token. Fire and forget.
    func release(app: String, jti: String)
    /// Entries currently held (for `gateway_replay_entries`); networked stores may answer an estimate or 0.
    var entryCount: Int { get }
    /// Whether the store answers right now (for `/readyz`).
    func isReady(completion: @escaping @Sendable (Bool) -> Void)
}
