import CoreMetrics
import Metrics

/// The contract's metrics, with per-loop caches so the hot path never asks the metrics factory (and its lock) again.
final class GatewayMetrics {
    private var rejections: [String: Counter] = [:]
    private let duration = Metrics.Timer(label: "gateway_request_duration_seconds", preferredDisplayUnit: .seconds)
    private let upstreamDuration = Metrics.Timer(label: "gateway_upstream_request_duration_seconds", preferredDisplayUnit: .seconds)

    /// Counters by route index and status for `indexedFor`'s routes: an integer key, no string hashing per request.
    private var byIndex: [Int: Counter] = [:]
    /// The config whose route indices `byIndex` uses; strong, so a new config at a reused address cannot match.
    private var indexedFor: AnyObject?

    /// Counts one finished exchange. `routeIndex` (into `config`'s routes) picks the cached counter; `route` is its label.
    func request(route: String, routeIndex: Int?, config: AnyObject, status: Int, durationNanos: UInt64,
                 upstreamNanos: UInt64, rejection: String?) {
        if indexedFor !== config {
            byIndex.removeAll(keepingCapacity: true)
            indexedFor = config
        }
        let indexKey = ((routeIndex ?? -1) + 1) << 16 | (status & 0xFFFF)
        if let c = byIndex[indexKey] {
            c.increment()
        } else {
            // Once per route, status and config on this loop; the factory hands back the same series for the same labels.
            let c = Counter(label: "gateway_requests_total", dimensions: [("route", route), ("code", String(status))])
            byIndex[indexKey] = c
            c.increment()
        }
        duration.recordNanoseconds(Int64(clamping: durationNanos))
        if upstreamNanos > 0 { upstreamDuration.recordNanoseconds(Int64(clamping: upstreamNanos)) }
        if let reason = rejection {
            if let c = rejections[reason] {
                c.increment()
            } else {
                let c = Counter(label: "gateway_auth_rejections_total", dimensions: [("reason", reason)])
                rejections[reason] = c
                c.increment()
            }
        }
    }
}
