import GatewayAuth
import GatewayCore
import GatewayHTTP1

/// A request the process answers itself: the admin endpoints or the bundled echo backend.
final class LocalExchange {
    let kind: ListenerKind
    let head: HTTPRequestHead
    unowned let connection: ClientConnection
    private var bodyBytes = 0
    private var hasher: SHA256Hasher?

    init(kind: ListenerKind, head: HTTPRequestHead, connection: ClientConnection) {
        self.kind = kind
        self.head = head
        self.connection = connection
        if kind == .echo { hasher = SHA256Hasher() }
    }

    func body(_ bytes: UnsafeRawBufferPointer) {
        bodyBytes += bytes.count
        hasher?.update(bytes)
    }

    /// Builds the response; `completion` may run later (readiness asks the replay store).
    func respond(_ completion: @escaping (Int, String, [UInt8]) -> Void) {
        switch kind {
        case .echo:
            completion(200, "application/json", echoBody())
        case .admin:
            admin(completion)
        case .gateway:
            completion(404, "application/json", Array(#"{"error":"no_route"}"#.utf8))
        }
    }

    private func echoBody() -> [UInt8] {
        var fields: [(String, String)] = []
        for (n, v) in head.headers.pairs {
            let name = n.lowercased()
            if let i = fields.firstIndex(where: { $0.0 == name }) {
                fields[i].1 += ", " + v
            } else {
                fields.append((name, v))
            }
        }
        var json = "{\"method\":\"\(head.method.jsonEscaped)\",\"path\":\"\(head.target.jsonEscaped)\",\"headers\":{"
        json += fields.map { "\"\($0.0.jsonEscaped)\":\"\($0.1.jsonEscaped)\"" }.joined(separator: ",")
        let digest = hasher?.finalizeHex() ?? ""
        json += "},\"body_bytes\":\(bodyBytes),\"body_sha256\":\"\(digest)\"}"
        return Array(json.utf8)
    }

    private func admin(_ completion: @escaping (Int, String, [UInt8]) -> Void) {
        let path = head.target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.target
        let state = connection.loopState
        switch path {
        case "/healthz":
            completion(200, "application/json", Array(#"{"status":"ok"}"#.utf8))
        case "/readyz":
            if state.draining || state.server.isReadinessWithdrawn {
                completion(503, "application/json", Array(#"{"status":"draining"}"#.utf8))
                return
            }
            let loop = state.loop
            let done = UnsafeTransfer(completion)
            state.replayStore.isReady { ready in
                let reply: @Sendable () -> Void = {
                    if ready {
                        done.value(200, "application/json", Array(#"{"status":"ready"}"#.utf8))
                    } else {
                        done.value(503, "application/json", Array(#"{"status":"replay_store_unavailable"}"#.utf8))
                    }
                }
                if loop.inLoop { reply() } else { loop.execute(reply) }
            }
        case "/metrics":
            completion(200, "text/plain; version=0.0.4", Array(state.server.renderMetrics().utf8))
        default:
            completion(404, "application/json", Array(#"{"error":"no_route","message":"admin endpoints: /healthz /readyz /metrics"}"#.utf8))
        }
    }
}

extension ClientConnection {
    /// Runs the local exchange once its request is complete and writes the response.
    func runLocal() {
        guard let l = local else { return }
        l.respond { [weak self] status, contentType, body in
            guard let self, self.local === l else { return }
            var h = HTTPResponseHead(status: status, reason: HTTPStatus.reason(status))
            h.headers.append(name: "Content-Type", value: contentType)
            h.headers.append(name: "Content-Length", value: String(body.count))
            if !self.machine.keepAlive { h.headers.append(name: "Connection", value: "close") }
            var bytes: [UInt8] = []
            HTTP1Serializer.writeResponseHead(h, into: &bytes)
            if l.head.method != "HEAD" { bytes.append(contentsOf: body) }
            self.write(bytes)
            self.endExchangeState()
        }
    }
}
