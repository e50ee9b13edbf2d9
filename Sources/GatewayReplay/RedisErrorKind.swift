/// The error replies that say something about the server's state rather than the command, so the client can
/// retry or rediscover instead of failing the request.
public enum RedisErrorKind: Sendable, Equatable, CaseIterable {
    /// `READONLY`: we are talking to a replica, typically a demoted master after a failover; find the master again.
    case readOnly
    /// `LOADING`: the server is reading its dataset after a restart; the same node will answer soon.
    case loading
    /// `MASTERDOWN`: a replica lost its master and refuses stale reads; find the master again.
    case masterDown
    /// `CLUSTERDOWN`: the cluster is not serving this slot (failover or missing slots); refresh the map and retry.
    case clusterDown
    /// `TRYAGAIN`: a multi-key command hit a slot mid-migration; retry shortly.
    case tryAgain
    /// `NOREPLICAS`: a master with `min-replicas-to-write` has lost its replicas (often: it was just replaced in a
    /// failover and nobody replicates from it any more); find the master again.
    case noReplicas

    /// Classifies an error reply; nil for other replies and for errors that are about the command itself.
    public init?(reply: RedisReply) {
        guard case .error(let message) = reply else { return nil }
        self.init(errorMessage: message)
    }

    /// Classifies the text after `-` by its first word, the only part Redis keeps stable across versions.
    public init?(errorMessage: String) {
        let code = errorMessage.prefix { $0 != " " }
        switch code {
        case "READONLY": self = .readOnly
        case "LOADING": self = .loading
        case "MASTERDOWN": self = .masterDown
        case "CLUSTERDOWN": self = .clusterDown
        case "TRYAGAIN": self = .tryAgain
        case "NOREPLICAS": self = .noReplicas
        default: return nil
        }
    }

    /// Whether the client should look up the topology again (Sentinel or `CLUSTER SLOTS`) before retrying,
    /// rather than retry the same node after a pause.
    public var needsRediscovery: Bool {
        switch self {
        case .readOnly, .masterDown, .clusterDown, .noReplicas: true
        case .loading, .tryAgain: false
        }
    }
}
