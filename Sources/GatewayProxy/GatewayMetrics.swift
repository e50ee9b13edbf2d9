import CoreMetrics
import GatewayReplay
import Metrics

/// The contract's metrics, with per-loop caches so the hot path never asks the metrics factory (and its lock) again.
///
/// Holds the factory's handlers rather than swift-metrics' `Counter` and `Recorder` wrappers: their `increment()`
/// and `record(_:)` are generic over the value type and, called from another module, converted it through
/// runtime metadata on every call. The handlers take `Int64` and `Double` directly; what is exported is the same.
final class GatewayMetrics {
    private var rejections: [String: any CounterHandler] = [:]
    /// Histograms of seconds as `Double` (aggregating recorders), not swift-metrics `Timer`s: Prometheus compares a
    /// value with every bucket on each record, and a `Duration` comparison is an out-of-line 128-bit call.
    private let duration = MetricsSystem.factory.makeRecorder(label: DurationHistograms.request, dimensions: [],
                                                              aggregate: true)
    private let upstreamDuration = MetricsSystem.factory.makeRecorder(label: DurationHistograms.upstream,
                                                                      dimensions: [], aggregate: true)
    private let replayStoreDuration = MetricsSystem.factory.makeRecorder(label: DurationHistograms.replayStore,
                                                                         dimensions: [], aggregate: true)
    /// Made up front, like the errors below: a series that exists at 0 lets an alert on its rate fire on the first
    /// unchecked admit, where a series born at 1 has no earlier sample to differ from.
    private let replayUnchecked = MetricsSystem.factory.makeCounter(label: "gateway_replay_unchecked_total",
                                                                    dimensions: [])
    /// `gateway_replay_store_errors_total` by kind, in `ReplayStoreErrorKind`'s order.
    private let replayStoreErrors: [any CounterHandler] = ReplayStoreErrorKind.allCases.map {
        MetricsSystem.factory.makeCounter(label: "gateway_replay_store_errors_total", dimensions: [("kind", $0.rawValue)])
    }

    /// Counters by route index and status for `indexedFor`'s routes: an integer key, no string hashing per request.
    private var byIndex: [Int: any CounterHandler] = [:]
    /// The config whose route indices `byIndex` uses; strong, so a new config at a reused address cannot match.
    private var indexedFor: AnyObject?
    /// The last counter used and its key: consecutive exchanges mostly share route and status, and then the
    /// dictionary (a SipHash of the key) is skipped.
    private var lastKey = -1
    private var lastCounter: (any CounterHandler)?

    /// Counts one finished exchange. `routeIndex` (into `config`'s routes, nil when no route matched) picks the
    /// cached counter; `route` gives its label when a counter has to be made.
    func request(routeIndex: Int?, config: AnyObject, status: Int, durationNanos: UInt64, upstreamNanos: UInt64,
                 rejection: String?, route: () -> String) {
        if indexedFor !== config {
            byIndex.removeAll(keepingCapacity: true)
            indexedFor = config
            lastKey = -1
            lastCounter = nil
        }
        let indexKey = ((routeIndex ?? -1) + 1) << 16 | (status & 0xFFFF)
        if indexKey == lastKey, let c = lastCounter {
            c.increment(by: 1)
        } else if let c = byIndex[indexKey] {
            lastKey = indexKey
            lastCounter = c
            c.increment(by: 1)
        } else {
            // Once per route, status and config on this loop; the factory hands back the same series for the same labels.
            let c = MetricsSystem.factory.makeCounter(label: "gateway_requests_total",
                                                      dimensions: [("route", route()), ("code", String(status))])
            byIndex[indexKey] = c
            lastKey = indexKey
            lastCounter = c
            c.increment(by: 1)
        }
        duration.record(Double(durationNanos) / 1e9)
        if upstreamNanos > 0 { upstreamDuration.record(Double(upstreamNanos) / 1e9) }
        if let reason = rejection {
            if let c = rejections[reason] {
                c.increment(by: 1)
            } else {
                let c = MetricsSystem.factory.makeCounter(label: "gateway_auth_rejections_total",
                                                          dimensions: [("reason", reason)])
                rejections[reason] = c
                c.increment(by: 1)
            }
        }
    }
}

extension GatewayMetrics {
    /// Counts one answer of the replay store: its round trip (admit call to answer, on the loop's clock) and, when it
    /// was a refusal or no answer, its error kind.
    /// `roundTripNanos` is nil for a store that answered in place (the memory store): there is no round trip to
    /// time, and a histogram record per single-use request (a lock inside swift-prometheus) would be pure cost.
    func replayStoreAnswered(_ admission: ReplayAdmission, roundTripNanos: UInt64?) {
        if let roundTripNanos { replayStoreDuration.record(Double(roundTripNanos) / 1e9) }
        guard let kind = ReplayStoreErrorKind(admission) else { return }
        replayStoreErrors[kind.index].increment(by: 1)
    }

    /// Counts one exchange let through without a replay check (`on_unavailable: allow`).
    func replayUncheckedAdmission() {
        replayUnchecked.increment(by: 1)
    }
}

/// The duration histograms' names and bucket bounds, for the executable's metrics bootstrap.
public enum DurationHistograms {
    public static let request = "gateway_request_duration_seconds"
    public static let upstream = "gateway_upstream_request_duration_seconds"
    /// Replay store round trips (networked stores; the memory store answers in place and is not timed).
    public static let replayStore = "gateway_replay_store_duration_seconds"
    public static var labels: [String] { [request, upstream, replayStore] }
    /// Upper bounds in seconds, 250 µs to 30 s.
    public static let buckets: [Double] = [
        0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30,
    ]
}
