import CoreMetrics
import Metrics

/// The contract's metrics, with per-loop caches so the hot path never asks the metrics factory (and its lock) again.
final class GatewayMetrics {
    private var requests: [RequestKey: Counter] = [:]
    private var rejections: [String: Counter] = [:]
    private let duration = Metrics.Timer(label: "gateway_request_duration_seconds", preferredDisplayUnit: .seconds)
    private let upstreamDuration = Metrics.Timer(label: "gateway_upstream_request_duration_seconds", preferredDisplayUnit: .seconds)

    private struct RequestKey: Hashable {
        var route: String
        var status: Int
    }

    func request(route: String, status: Int, durationNanos: UInt64, upstreamNanos: UInt64, rejection: String?) {
        let key = RequestKey(route: route, status: status)
        if let c = requests[key] {
            c.increment()
        } else {
            let c = Counter(label: "gateway_requests_total", dimensions: [("route", route), ("code", String(status))])
            requests[key] = c
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
