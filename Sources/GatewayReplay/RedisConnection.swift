private import CHiredis
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GatewayCore
import Logging

/// What a conditional SET came back with.
enum RedisSetOutcome: Equatable {
    /// `OK`: the key was absent and is now stored.
    case stored
    /// nil: the key already existed (NX refused).
    case exists
    /// No usable answer: connection refused or lost, timeout, or an error reply.
    case failed
}

/// Owns one `redisContext` and frees it; a failed context is dropped whole, never reused.
private final class RedisHandle {
    let context: UnsafeMutablePointer<redisContext>

    init(context: UnsafeMutablePointer<redisContext>) { self.context = context }

    deinit { redisFree(context) }

    var failed: Bool { context.pointee.err != 0 }
}

/// A blocking Redis connection that reconnects lazily after any failure.
///
/// Not thread-safe and blocking: each instance is used only from its own serial DispatchQueue
/// (see `RedisReplayStore`), which is why it is `@unchecked Sendable`.
final class RedisConnection: @unchecked Sendable {
    private let endpoint: RedisEndpoint
    private let timeout: timeval
    private var handle: RedisHandle?
    private let logger: Logger
    /// The login failure last logged; a Redis that keeps refusing the login is logged once, not once per request.
    private var loggedLoginFailure: String?

    /// hiredis writes with plain `write(2)`: a server that went away would raise SIGPIPE and kill the process.
    private static let ignoreSigpipe: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    init(endpoint: RedisEndpoint, timeout: TimeSpan, logger: Logger) {
        _ = Self.ignoreSigpipe
        self.endpoint = endpoint
        self.logger = logger
        let ns = max(1_000_000, timeout.nanoseconds)  // at least 1ms: a zero timeval means "wait forever"
        self.timeout = timeval(tv_sec: .init(ns / 1_000_000_000), tv_usec: .init((ns % 1_000_000_000) / 1000))
    }

    /// `SET key 1 EXAT expireAt NX`.
    func setIfAbsent(key: [UInt8], expireAt: Int64) -> RedisSetOutcome {
        let args: [[UInt8]] = [Array("SET".utf8), key, [UInt8(ascii: "1")], Array("EXAT".utf8),
                               Array(String(expireAt).utf8), Array("NX".utf8)]
        return command(args) { type, text in
            if type == REDIS_REPLY_STATUS, text == "OK" { return .stored }
            if type == REDIS_REPLY_NIL { return .exists }
            return .failed
        } ?? .failed
    }

    /// `DEL key`; false when Redis could not be asked.
    func delete(key: [UInt8]) -> Bool {
        command([Array("DEL".utf8), key]) { type, _ in type == REDIS_REPLY_INTEGER } ?? false
    }

    /// `PING`, true on `PONG`.
    func ping() -> Bool {
        command([Array("PING".utf8)]) { type, text in type == REDIS_REPLY_STATUS && text == "PONG" } ?? false
    }

    /// Drops the connection (the next command reconnects).
    func disconnect() { handle = nil }

    /// Runs one command; nil when there is no connection or the connection failed (it is then dropped).
    private func command<T>(_ args: [[UInt8]], _ interpret: (Int32, String?) -> T) -> T? {
        guard let context = connectedContext() else { return nil }
        guard let reply = send(args, on: context) else {
            handle = nil
            return nil
        }
        defer { freeReplyObject(reply) }
        let r = reply.assumingMemoryBound(to: redisReply.self).pointee
        var text: String?
        if r.type == REDIS_REPLY_STATUS || r.type == REDIS_REPLY_ERROR, let str = r.str {
            text = String(decoding: UnsafeRawBufferPointer(start: str, count: Int(r.len)), as: UTF8.self)
        }
        return interpret(r.type, text)
    }

    /// A connected, logged-in context with its database selected: `AUTH` and `SELECT` go first on every new
    /// connection, because Redis forgets both when a connection ends.
    private func connectedContext() -> UnsafeMutablePointer<redisContext>? {
        if let handle, !handle.failed { return handle.context }
        handle = nil
        guard let context = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), timeout) else { return nil }
        let fresh = RedisHandle(context: context)
        guard !fresh.failed, redisSetTimeout(context, timeout) == REDIS_OK else { return nil }
        if let password = endpoint.password {
            var auth: [[UInt8]] = [Array("AUTH".utf8)]
            if let user = endpoint.username { auth.append(Array(user.utf8)) }
            auth.append(password)
            guard expectOK(auth, on: context, step: "AUTH") else { return nil }
        }
        if endpoint.database != 0 {
            guard expectOK([Array("SELECT".utf8), Array(String(endpoint.database).utf8)], on: context, step: "SELECT") else {
                return nil
            }
        }
        handle = fresh
        loggedLoginFailure = nil
        return context
    }

    /// Sends a login step and wants `+OK`; an error reply is logged (once while it repeats) and fails the connection.
    private func expectOK(_ args: [[UInt8]], on context: UnsafeMutablePointer<redisContext>, step: String) -> Bool {
        guard let reply = send(args, on: context) else { return false }
        defer { freeReplyObject(reply) }
        let r = reply.assumingMemoryBound(to: redisReply.self).pointee
        if r.type == REDIS_REPLY_STATUS { return true }
        var text = "unexpected reply type \(r.type)"
        if r.type == REDIS_REPLY_ERROR, let str = r.str {
            text = String(decoding: UnsafeRawBufferPointer(start: str, count: min(Int(r.len), 200)), as: UTF8.self)
        }
        logLoginFailure(step: step, reply: text)
        return false
    }

    private func logLoginFailure(step: String, reply: String) {
        var reply = reply
        // Redis does not echo the password in its errors today; a proxy or fork in between might.
        if let password = endpoint.password, !password.isEmpty {
            reply = reply.replacing(String(decoding: password, as: UTF8.self), with: "(redacted)")
        }
        let key = step + reply
        guard key != loggedLoginFailure else { return }
        loggedLoginFailure = key
        logger.error("redis login failed; the replay store is unavailable until it succeeds", metadata: [
            "redis": "\(endpoint)", "step": "\(step)", "reply": "\(reply)",
        ])
    }

    /// `redisCommandArgv` with explicit lengths, so keys are sent as raw bytes whatever they contain.
    private func send(_ args: [[UInt8]], on context: UnsafeMutablePointer<redisContext>) -> UnsafeMutableRawPointer? {
        var joined: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int] = []
        for arg in args {
            offsets.append(joined.count)
            lengths.append(arg.count)
            joined.append(contentsOf: arg)
        }
        joined.append(0)  // never empty, so the base pointer exists
        return joined.withUnsafeBufferPointer { buffer -> UnsafeMutableRawPointer? in
            guard let base = buffer.baseAddress else { return nil }
            let raw = UnsafeRawPointer(base)
            var argv: [UnsafePointer<CChar>?] = offsets.map { (raw + $0).assumingMemoryBound(to: CChar.self) }
            return argv.withUnsafeMutableBufferPointer { argvBuffer in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    redisCommandArgv(context, Int32(args.count), argvBuffer.baseAddress, lengthBuffer.baseAddress)
                }
            }
        }
    }
}
