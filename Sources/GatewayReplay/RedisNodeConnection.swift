import Dispatch
import GatewayCore
import GatewayLoop
import GatewayTLS
import GatewayTransport
import Logging

/// One connection from one loop to one Redis node: commands are pipelined (those queued while the loop handles one
/// batch of events leave in one write), replies come back in order, each command has a timeout, and a failed
/// connection is retried after a jittered backoff. Loop-confined: every method runs on `loop`.
final class RedisNodeConnection: LoopBatchFinisher {
    typealias Completion = (Result<RedisReply, RedisFault>) -> Void

    private struct Waiting {
        /// nil for a login command (checked here, not handed out).
        let completion: Completion?
        let deadline: UInt64
    }

    let node: RedisNodeAddress
    let loop: EventLoop
    private let login: RedisLogin
    private let tls: RedisTLS?
    private let timeoutNanos: UInt64
    private let logger: Logger
    private var machine = RedisConnectionStateMachine()
    private var transport: TransportChannel?
    /// The socket while its TCP connect runs (closed to cancel it).
    private var connectingSocket: SocketChannel?
    private var reader: RESPReader?
    /// Encoded commands not yet written: held while connecting, or gathered until the batch ends.
    private var out: [UInt8] = []
    /// Commands written or held, oldest first; `head` is the next to be answered.
    private var waiting: [Waiting] = []
    private var head = 0
    private var flushScheduled = false
    private var timer: LoopTimer?
    /// Bumped on every new connection, so a late callback of an abandoned one is recognized.
    private var generation = 0
    private var loggedLoginFailure: String?
    /// The node's address when it is numeric; nil for a name, looked up before each connect.
    private let numericAddress: SocketAddress?
    /// Writes handed to the socket so far (each carries every command gathered in one batch).
    private(set) var writeCount = 0
    /// Pub/sub: where messages go that answer no command (nil: such a reply is a protocol error).
    var onPush: ((RedisReply) -> Void)?
    /// Called after every failure of the connection (the topology may look for a new master, say).
    var onFailure: ((RedisFault) -> Void)?

    init(node: RedisNodeAddress, loop: EventLoop, login: RedisLogin, tls: RedisTLS?, timeout: TimeSpan, logger: Logger) {
        self.node = node
        self.loop = loop
        self.login = login
        self.tls = tls
        timeoutNanos = UInt64(max(1_000_000, timeout.nanoseconds))
        self.logger = logger
        numericAddress = try? SocketAddress(parsing: node.description)
        timer = LoopTimer(loop: loop) { [unowned self] in self.timerFired() }
    }

    deinit {
        timer?.disarm()
        connectingSocket?.onWritable = nil
        connectingSocket?.close()
        transport?.onReadable = nil
        transport?.onWritable = nil
        transport?.close()
    }

    /// `host:port`, for logs.
    var address: String { node.description }

    /// Commands written or held and not yet answered.
    var outstanding: Int { waiting.count - head }

    /// Sends one command; `completion` runs on the loop with its reply (an error reply is a reply), or with the
    /// fault. It may run before `send` returns (backing off, or a connect that fails at once).
    func send(_ args: [[UInt8]], completion: @escaping Completion) {
        loop.assertInLoop()
        let now = loop.now()
        switch machine.send(now: now) {
        case .failFast:
            completion(.failure(.connection))
            return
        case .connectAndHold:
            enqueue(args, completion, now: now)
            connect()
        case .hold:
            enqueue(args, completion, now: now)
        case .write:
            enqueue(args, completion, now: now)
            scheduleFlush()
        }
    }

    /// Closes the connection, failing what waits (the topology changed); `onFailure` is not called.
    func close() {
        fail(.connection, backoff: false)
    }

    private func enqueue(_ args: [[UInt8]], _ completion: Completion?, now: UInt64) {
        RESPCommand.append(args, to: &out)
        waiting.append(Waiting(completion: completion, deadline: now &+ timeoutNanos))
        if let timer, !timer.isArmed { timer.arm(afterNanos: timeoutNanos) }
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.afterBatch(self)
    }

    /// The batch is over: everything gathered goes out in one write.
    func finishBatch() {
        flushScheduled = false
        flush()
    }

    private func flush() {
        guard let transport, !out.isEmpty else { return }
        switch machine.state {
        case .loggingIn, .ready: break
        default: return
        }
        writeCount += 1
        let ok = transport.write(out)
        out.removeAll(keepingCapacity: out.capacity <= 64 * 1024)
        if !ok { fail(.connection) }
    }

    // MARK: connecting

    private func connect() {
        generation &+= 1
        let gen = generation
        if let numeric = numericAddress {
            connect(to: numeric, generation: gen)
            return
        }
        // A name is looked up again for every connection (a managed Redis moves its name on failover), off the loop:
        // getaddrinfo blocks.
        let name = address
        let me = UnsafeTransfer(self)
        let loop = loop
        DispatchQueue.global().async {
            let found = try? SocketAddress.resolve(name)
            loop.execute {
                let c = me.value
                guard gen == c.generation, c.machine.state == .connecting else { return }
                guard let found else {
                    c.logger.warning("redis address does not resolve", metadata: ["redis": "\(name)"])
                    c.fail(.connection)
                    return
                }
                c.connect(to: found, generation: gen)
            }
        }
    }

    private func connect(to address: SocketAddress, generation gen: Int) {
        let socket = Connector.connect(to: address, loop: loop) { [weak self] result in
            guard let self, gen == generation else {
                if case .success(let channel) = result { channel.close() }
                return
            }
            connectingSocket = nil
            switch result {
            case .failure:
                fail(.connection)
            case .success(let channel):
                if let tls {
                    let t = TLSClientHandshake.start(channel: channel, context: tls.context,
                                                     serverName: tls.serverName ?? node.host) { [weak self] result in
                        guard let self, gen == generation else {
                            if case .success(let t) = result { t.close() }
                            return
                        }
                        switch result {
                        case .success(let t): connected(t)
                        case .failure(let f):
                            transport = nil
                            logger.warning("redis TLS handshake failed", metadata: ["redis": "\(self.address)", "reason": "\(f.reason)"])
                            fail(.connection)
                        }
                    }
                    if gen == generation, let t { transport = t }
                } else {
                    connected(TransportChannel(channel: channel))
                }
            }
        }
        if gen == generation, let socket { connectingSocket = socket }
    }

    private func connected(_ t: TransportChannel) {
        let steps = login.commands
        switch machine.connected(loginSteps: steps.count) {
        case .close:
            t.close()
            return
        case .loginThenWrite:
            var loginBytes: [UInt8] = []
            for c in steps { RESPCommand.append(c, to: &loginBytes) }
            out = loginBytes + out
            let now = loop.now()
            let logins = steps.map { _ in Waiting(completion: nil, deadline: now &+ timeoutNanos) }
            waiting.replaceSubrange(head..<head, with: logins)
        case .write:
            break
        }
        transport = t
        reader = RESPReader()
        t.onReadable = { [unowned self] in readable() }
        t.onWritable = { [unowned self] in
            do { _ = try transport?.flush() } catch { fail(.connection) }
        }
        t.resumeReading()
        flush()
    }

    // MARK: replies

    private func readable() {
        guard let t = transport else { return }
        let buf = loop.readBuffer
        while transport === t {
            let r: ReadResult
            do { r = try t.read(into: buf) } catch {
                fail(.connection)
                return
            }
            switch r {
            case .wouldBlock: return
            case .eof:
                fail(.connection)
                return
            case .bytes(let n):
                do {
                    try reader?.feed(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[0..<n]))
                    while transport === t, let reply = try reader?.next() { deliver(reply) }
                } catch {
                    logger.warning("redis sent bytes that are not RESP", metadata: ["redis": "\(address)", "reason": "\(error.reason)"])
                    fail(.protocolError)
                    return
                }
                if n < buf.count && t.shortReadDrains { return }
            }
        }
    }

    private func deliver(_ reply: RedisReply) {
        guard head < waiting.count else {
            // A subscribed connection's messages; anywhere else, a reply nobody asked for: the stream is out of step.
            if let onPush { onPush(reply) } else { fail(.protocolError) }
            return
        }
        let w = waiting[head]
        head += 1
        if head == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            head = 0
            timer?.disarm()
        } else if head >= 1024 {
            waiting.removeFirst(head)
            head = 0
        }
        guard let completion = w.completion else {
            loginReplied(reply)
            return
        }
        machine.answered()
        completion(.success(reply))
    }

    private func loginReplied(_ reply: RedisReply) {
        let ok: Bool
        if case .status = reply { ok = true } else { ok = false }
        switch machine.loginReplied(ok: ok, now: loop.now(), jitter: Double.random(in: 0...1)) {
        case .wait: break
        case .ready: loggedLoginFailure = nil
        case .fail:
            logLoginFailure(reply)
            tearDown(.connection)
        }
    }

    private func logLoginFailure(_ reply: RedisReply) {
        var text: String
        switch reply {
        case .error(let e): text = String(e.prefix(200))
        default: text = "unexpected reply"
        }
        // Redis does not echo the password in its errors today; a proxy or fork in between might.
        if let password = login.password, !password.isEmpty {
            text = text.replacing(String(decoding: password, as: UTF8.self), with: "(redacted)")
        }
        guard text != loggedLoginFailure else { return }
        loggedLoginFailure = text
        logger.error("redis login failed; the replay store is unavailable until it succeeds",
                     metadata: ["redis": "\(address)", "reply": "\(text)"])
    }

    // MARK: failures

    private func timerFired() {
        guard head < waiting.count else { return }
        let now = loop.now()
        let deadline = waiting[head].deadline
        if deadline > now {
            timer?.arm(afterNanos: deadline - now)
            return
        }
        fail(.timeout)
    }

    /// The connection is lost or given up: everything waiting fails with `fault`, and commands fail at once until
    /// the backoff ends (`backoff: false` only when closing on purpose).
    private func fail(_ fault: RedisFault, backoff: Bool = true) {
        if backoff {
            machine.failed(now: loop.now(), jitter: Double.random(in: 0...1))
        } else {
            machine = RedisConnectionStateMachine()
        }
        tearDown(fault, notify: backoff)
    }

    /// Closes whatever is open and fails everything waiting; the machine already knows what comes next.
    private func tearDown(_ fault: RedisFault, notify: Bool = true) {
        generation &+= 1
        timer?.disarm()
        if let s = connectingSocket {
            s.onWritable = nil
            s.close()
            connectingSocket = nil
        }
        if let t = transport {
            t.onReadable = nil
            t.onWritable = nil
            t.close()
            transport = nil
        }
        reader = nil
        out.removeAll(keepingCapacity: false)
        let failed = waiting[head...]
        waiting = []
        head = 0
        for w in failed { w.completion?(.failure(fault)) }
        if notify { onFailure?(fault) }
    }
}
