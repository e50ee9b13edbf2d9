import GatewayReplay

/// The `kind` label of `gateway_replay_store_errors_total`: a fixed set, one per answer that was not a verdict.
enum ReplayStoreErrorKind: String, CaseIterable {
    /// A networked store took its whole `timeout` (see `ReplayStoreFault.timeout`).
    case timeout
    /// A networked store could not be reached or lost its connection (see `ReplayStoreFault.connection`).
    case connection
    /// A networked store answered with an error or something that is not a verdict (`ReplayStoreFault.reply`).
    case reply
    /// The memory store is at `max_entries`.
    case full

    /// The kind of a store's answer; nil for a verdict (`fresh`, `replayed`).
    init?(_ admission: ReplayAdmission) {
        switch admission {
        case .fresh, .replayed: return nil
        case .full: self = .full
        case .unavailable(.timeout): self = .timeout
        case .unavailable(.connection): self = .connection
        case .unavailable(.reply): self = .reply
        }
    }

    /// Its position in `allCases`, where `GatewayMetrics` keeps its counter (a switch: no search per error).
    var index: Int {
        switch self {
        case .timeout: 0
        case .connection: 1
        case .reply: 2
        case .full: 3
        }
    }
}
