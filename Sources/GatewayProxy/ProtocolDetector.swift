import GatewayCore
import GatewayTransport
import GatewayLoop
import GatewayTLS

/// The start of a gateway connection: on a `proxy_protocol` listener reads the PROXY header first (its source
/// becomes the peer address), then finishes the TLS handshake (ALPN `h2` or HTTP/1.1) or, in plain TCP,
/// looks for the h2c prior-knowledge preface, then hands the connection to `HTTP2ClientConnection` or
/// `ClientConnection`.
final class ProtocolDetector: GatewayClient {
    /// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 section 3.4).
    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    let transport: TransportChannel
    let loopState: LoopState
    var peerIP: String
    /// Index of the listener the connection came in on.
    let listener: Int
    let kind: ListenerKind = .gateway
    private var timer: LoopTimer?
    /// Plain TCP: the bytes seen so far while they still match the start of the preface.
    private var seen: [UInt8] = []
    private var done = false
    /// Non-nil until the PROXY protocol header is complete, on a `proxy_protocol` listener.
    private var proxyHeader: ProxyHeaderParser?

    init(transport: TransportChannel, peerIP: String, loopState: LoopState, listener: Int, proxyProtocol: Bool = false) {
        self.listener = listener
        if proxyProtocol { proxyHeader = ProxyHeaderParser() }
        self.transport = transport
        self.peerIP = peerIP
        self.loopState = loopState
    }

    func start() {
        loopState.register(self)
        let t = LoopTimer(loop: loopState.loop) { [unowned self] in self.forceClose() }
        t.arm(after: loopState.snapshot.config.limits.headerTimeout)
        timer = t
        transport.onReadable = { [unowned self] in self.readable() }
        if transport.isTLS && proxyHeader == nil {
            // A TLS client speaks first; still try at once in case its hello is already here.
            transport.resumeReading()
            readable()
        } else {
            transport.resumeReading()
        }
    }

    private func readable() {
        loopState.loop.assertInLoop()
        guard !done else { return }
        let buf = loopState.loop.readBuffer
        if proxyHeader != nil {
            readProxyHeader(buf)
            return
        }
        if transport.isTLS {
            switch transport.continueHandshake(buffer: buf) {
            case .pending: return
            case .failed(let reason):
                loopState.server.logger.debug("TLS handshake failed", metadata: ["client": "\(peerIP)", "reason": "\(reason)"])
                forceClose()
            case .complete:
                if transport.tls?.negotiatedALPN == "h2" {
                    handToHTTP2(initial: nil)
                } else {
                    handToHTTP1(initial: nil)
                }
            }
            return
        }
        while !done {
            let r: ReadResult
            do { r = try transport.read(into: buf) } catch {
                forceClose()
                return
            }
            switch r {
            case .wouldBlock: return
            case .eof:
                forceClose()
                return
            case .bytes(let n):
                sniff(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[0..<n]))
            }
        }
    }

    /// Reads the PROXY header off the socket itself (below TLS, which it precedes); once it is complete, the bytes
    /// after it go where the socket's would have (OpenSSL, or preface detection) and the connection carries on.
    /// A refused header closes the connection without an answer.
    private func readProxyHeader(_ buf: UnsafeMutableRawBufferPointer) {
        while !done, var parser = proxyHeader {
            let r: ReadResult
            do { r = try transport.channel.read(into: buf) } catch {
                forceClose()
                return
            }
            let progress: ProxyHeaderProgress
            switch r {
            case .wouldBlock: return
            case .eof:
                forceClose()
                return
            case .bytes(let n):
                do throws(ProxyHeaderError) {
                    progress = try parser.feed(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[0..<n]))
                } catch {
                    loopState.server.logger.debug("PROXY protocol header refused",
                                                  metadata: ["peer": "\(peerIP)", "reason": "\(error)"])
                    forceClose()
                    return
                }
            }
            guard case .complete(let header, let rest) = progress else {
                proxyHeader = parser
                continue
            }
            proxyHeader = nil
            if let source = header.source { peerIP = source.description }
            if !rest.isEmpty {
                if let tls = transport.tls {
                    rest.withUnsafeBytes { tls.feed(ciphertext: $0) }
                } else {
                    rest.withUnsafeBytes { sniff($0) }
                }
            }
            readable()
            return
        }
    }

    /// Decides as soon as the bytes differ from the preface, or once all 24 bytes match.
    private func sniff(_ input: UnsafeRawBufferPointer) {
        let preface = ProtocolDetector.preface
        var i = 0
        while i < input.count && seen.count + i < preface.count {
            if input[i] != preface[seen.count + i] {
                if seen.isEmpty {
                    handToHTTP1(initial: input)
                } else {
                    var all = seen
                    all.append(contentsOf: input)
                    all.withUnsafeBytes { handToHTTP1(initial: $0) }
                }
                return
            }
            i += 1
        }
        if seen.count + input.count < preface.count {
            seen.append(contentsOf: input)
            return
        }
        var all = seen
        all.append(contentsOf: input)
        all.withUnsafeBytes { handToHTTP2(initial: $0) }
    }

    private func finish() {
        done = true
        timer?.disarm()
        timer = nil
        loopState.handOver(from: self)
    }

    private func handToHTTP1(initial: UnsafeRawBufferPointer?) {
        finish()
        let c = ClientConnection(transport: transport, peerIP: peerIP, loopState: loopState, kind: .gateway,
                                 listener: listener)
        c.start(initial: initial)
        if initial == nil && transport.isTLS { transport.kickReading() }
    }

    private func handToHTTP2(initial: UnsafeRawBufferPointer?) {
        finish()
        let c = HTTP2ClientConnection(transport: transport, peerIP: peerIP, loopState: loopState, listener: listener)
        c.start(initial: initial)
        if initial == nil && transport.isTLS { transport.kickReading() }
    }

    /// A request may already be on the wire: wait the drain's quiet period for it (the connection it is handed to
    /// serves it as its last), then close.
    func drain() {
        guard !done else { return }
        timer?.arm(after: loopState.drainQuietPeriod)
    }

    func forceClose() {
        guard !done else { return }
        done = true
        timer?.disarm()
        timer = nil
        transport.close()
        loopState.unregister(self)
    }
}
