import Dispatch
import GatewayCore
import GatewayLoop
import Logging

/// `resolve_interval`: host names among the upstream servers are looked up again off the loops, and a changed
/// address set reaches every loop as a new snapshot (see `RuntimeSnapshot.withNames`).
extension GatewayServer {
    /// (Re)plans the look-ups; `reset` forgets when each upstream was last looked up (a load just did it).
    func planResolution(reset: Bool) {
        resolveQueue.async { [weak self] in
            guard let self, !resolveStopped else { return }
            if reset { resolveDue = [:] }
            resolveTick()
        }
    }

    func stopResolution() {
        resolveQueue.async { [weak self] in
            guard let self else { return }
            resolveStopped = true
            resolveTimer?.cancel()
            resolveTimer = nil
        }
    }

    /// On `resolveQueue`: looks up the names of every upstream whose interval has passed, applies the answers, and
    /// sets the timer for the next upstream due.
    private func resolveTick() {
        guard !resolveStopped else { return }
        let snapshot = installed.withLock { $0.snapshot }
        let now = DispatchTime.now()
        var answers: [HostPort: [SocketAddress]?] = [:]
        var due: [String: DispatchTime] = [:]
        var next: DispatchTime?
        for target in snapshot.upstreams where !target.hostNames.isEmpty {
            guard let source = target.source else { continue }
            let interval = DispatchTimeInterval.nanoseconds(Int(clamping: source.resolveInterval.nanoseconds))
            var when = resolveDue[target.name] ?? now + interval
            if when <= now {
                for host in target.hostNames where answers.index(forKey: host) == nil {
                    answers[host] = .some(resolver(host.host, host.port))
                }
                when = DispatchTime.now() + interval
            }
            due[target.name] = when
            next = next.map { min($0, when) } ?? when
        }
        resolveDue = due
        if !answers.isEmpty { apply(answers) }
        schedule(next)
    }

    /// Applies a round of answers to the installed snapshot; when an address set changed, every loop gets the new one.
    private func apply(_ answers: [HostPort: [SocketAddress]?]) {
        let change = installed.withLock { current -> ResolvedNames.Change in
            var names = current.names
            // A reload may have dropped a name while it was being looked up.
            let change = names.apply(answers.filter { current.names.addresses[$0.key] != nil })
            if change.changed.isEmpty {
                current.names = names
                return change
            }
            let snapshot = current.snapshot.withNames(names)
            current = (snapshot, names)
            for state in loopStates {
                state.loop.execute { state.install(snapshot) }
            }
            return change
        }
        let names = installed.withLock { $0.names }
        for host in change.startedFailing {
            logger.warning("upstream server name lookup failed; its last good addresses stay in use",
                           metadata: ["server": "\(host)", "addresses": "\(Self.list(names.addresses[host]))"])
        }
        for host in change.recovered {
            logger.info("upstream server name resolves again", metadata: ["server": "\(host)"])
        }
        for host in change.changed {
            logger.info("upstream server name resolves to new addresses",
                        metadata: ["server": "\(host)", "addresses": "\(Self.list(names.addresses[host]))"])
        }
    }

    private static func list(_ addresses: [SocketAddress]?) -> String {
        (addresses ?? []).map(\.description).joined(separator: ", ")
    }

    private func schedule(_ next: DispatchTime?) {
        guard let next else {
            resolveTimer?.cancel()
            resolveTimer = nil
            return
        }
        if resolveTimer == nil {
            let timer = DispatchSource.makeTimerSource(queue: resolveQueue)
            timer.setEventHandler { [weak self] in self?.resolveTick() }
            timer.schedule(deadline: next)
            timer.resume()
            resolveTimer = timer
        } else {
            resolveTimer?.schedule(deadline: next)
        }
    }
}
