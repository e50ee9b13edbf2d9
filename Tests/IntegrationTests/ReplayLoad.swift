import Foundation
import GatewayCore
import Synchronization

/// One answer a load client got for a token, with monotonic send and receive times (to sort it into a phase of a
/// test, never to assert a duration).
struct LoadAnswer: Sendable {
    /// Which token (index into the test's token list).
    let token: Int
    /// 0 when no response came (connection refused, reset, or nothing within the read timeout).
    let status: Int
    /// The `error` of a gateway answer; nil for the backend's 200.
    let code: String?
    let sentAt: UInt64
    let receivedAt: UInt64

    /// 200, `401 token_replayed` or `503 replay_store_unavailable`: all a store switching masters may cause.
    var isReplayStoreAnswer: Bool {
        status == 200 || (status == 401 && code == "token_replayed") || (status == 503 && code == "replay_store_unavailable")
    }

    var summary: String { "\(status) \(code ?? "")" }
}

/// Tokens and the answers several client threads got for them; shared between the threads.
final class ReplayLoad: Sendable {
    private let answers = Locked<[LoadAnswer]>([])
    private let tokens = Locked<[String]>([])
    private let stopped = Atomic<Bool>(false)
    private let admitted = Atomic<Int>(0)
    private let threads = DispatchGroup()

    static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Sends `GET /orders` with `token` to `port` on a new connection and reads one response.
    static func send(port: Int, token: String, index: Int) -> LoadAnswer {
        let sentAt = now
        var status = 0
        var code: String?
        if let client = try? RawClient(port: port) {
            client.send(httpRequest("GET", "/orders", token: token))
            if let r = client.readResponse(timeout: 10) {
                status = r.status
                code = r.json?["error"] as? String
            }
        }
        return LoadAnswer(token: index, status: status, code: code, sentAt: sentAt, receivedAt: now)
    }

    /// Registers a token; returns its index.
    func add(_ token: String) -> Int {
        tokens.withLock {
            $0.append(token)
            return $0.count - 1
        }
    }

    func token(_ index: Int) -> String { tokens.withLock { $0[index] } }

    func record(_ a: LoadAnswer) {
        answers.withLock { $0.append(a) }
        if a.status == 200 { admitted.add(1, ordering: .relaxed) }
    }

    var all: [LoadAnswer] { answers.withLock { $0 } }
    var admittedCount: Int { admitted.load(ordering: .relaxed) }
    var tokenCount: Int { tokens.withLock { $0.count } }

    /// Starts `count` threads that each, until `stop()`, send a fresh token to `port` and then the same token once
    /// more after its first answer (a client retrying, or an attacker replaying).
    func startFreshTokenClients(_ count: Int, port: Int) {
        for _ in 0..<count {
            threads.enter()
            let t = Thread { [self] in
                while !stopped.load(ordering: .relaxed) {
                    let token = Tok.valid()
                    let i = add(token)
                    record(Self.send(port: port, token: token, index: i))
                    record(Self.send(port: port, token: token, index: i))
                }
                threads.leave()
            }
            t.start()
        }
    }

    /// Stops the threads and waits for them (each finishes its current pair of requests).
    func stop() {
        stopped.store(true, ordering: .relaxed)
        _ = threads.wait(timeout: .now() + 30)
    }

    /// Per token, its answers in the order they arrived.
    var byToken: [Int: [LoadAnswer]] {
        Dictionary(grouping: all, by: \.token).mapValues { $0.sorted { $0.receivedAt < $1.receivedAt } }
    }

    /// How many answers of each kind, e.g. `["200 ": 812, "401 token_replayed": 790, "503 replay_store_unavailable": 4]`.
    var tally: [String: Int] { Dictionary(grouping: all, by: \.summary).mapValues(\.count) }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass (a limit that turns a hang into a failure, not a
/// timing assertion); true when it held.
@discardableResult
func pollUntil(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if try condition() { return true }
        if Date() >= deadline { return false }
        usleep(20_000)
    }
}
