import Foundation
import GatewayCore
import HTTP2TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/2 frame as read off the wire.
struct H2Frame {
    let type: UInt8
    let flags: UInt8
    let streamID: Int32
    let payload: [UInt8]

    /// The first 32 bits of the payload (RST_STREAM's error code; GOAWAY's last stream id, top bit cleared).
    func word(at offset: Int) -> UInt32? {
        guard payload.count >= offset + 4 else { return nil }
        return payload[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// A hostile HTTP/2 client over h2c with prior knowledge: writes whatever bytes it is given, when it is given them,
/// and reads frames only when asked (a client that floods without reading is one that never calls `read`).
///
/// It answers nothing by itself except the server's SETTINGS (acknowledged when read), and decodes the server's
/// header blocks with nghttp2's HPACK decoder to see `:status`.
final class H2RawConnection {
    let fd: Int32
    private var inbox: [UInt8] = []
    /// Every frame received, in order.
    private(set) var frames: [H2Frame] = []
    /// EOF or a reset from the gateway.
    private(set) var peerClosed = false
    /// The gateway reset the connection (RST) rather than closing it with FIN.
    private(set) var resetByPeer = false
    /// False once a write failed (the gateway closed, or did not read for `sendTimeout` seconds).
    private(set) var writable = true
    private let decoder = HPACKDecoder()
    private var pendingBlock: (streamID: Int32, bytes: [UInt8])?
    /// Decoded header blocks per stream, in order.
    private(set) var blocks: [Int32: [[(name: String, value: String)]]] = [:]

    /// Connects and, unless `preface` is false, sends the preface and an empty SETTINGS frame (`then` in the same
    /// write: frames sent "early", before anything from the server was read).
    init(port: Int, preface: Bool = true, then early: [UInt8] = []) throws {
        fd = try connectedTCPSocket(port: port)
        // A gateway that stops reading fails the write after this long instead of hanging the test.
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if preface { send(HTTP2RawFrame.preface + HTTP2RawFrame.settings() + early) }
    }

    deinit { Glibc.close(fd) }

    /// Writes all of `bytes` in one `send` call where the socket takes them; false when the gateway is gone.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count && writable {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { writable = false; break }
            off += n
        }
        return writable
    }

    /// `send`, each piece in its own write with a short pause between, so the gateway reads them apart.
    @discardableResult
    func send(pieces: [[UInt8]]) -> Bool {
        for (i, p) in pieces.enumerated() {
            if i > 0 { usleep(20_000) }
            guard send(p) else { return false }
        }
        return true
    }

    /// Reads frames until `done` holds, the gateway closes, or `timeout` seconds pass; returns `done`.
    @discardableResult
    func read(timeout: Double = 10, until done: (H2RawConnection) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 65536)
        while !done(self) && !peerClosed {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { break }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, Int32(min(left, 0.2) * 1000) + 1) <= 0 { continue }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) {
                if n < 0 && errno == ECONNRESET { resetByPeer = true }
                peerClosed = true
                break
            }
            if n > 0 {
                inbox += buf[0..<n]
                parse()
            }
        }
        return done(self)
    }

    /// Reads until the gateway closes the connection.
    @discardableResult
    func readUntilClosed(timeout: Double = 10) -> Bool { read(timeout: timeout) { $0.peerClosed } }

    private func parse() {
        var at = 0
        var acks: [UInt8] = []
        while inbox.count - at >= 9 {
            let length = Int(inbox[at]) << 16 | Int(inbox[at + 1]) << 8 | Int(inbox[at + 2])
            guard inbox.count - at >= 9 + length else { break }
            let sid = Int32(bitPattern: UInt32(inbox[at + 5]) << 24 | UInt32(inbox[at + 6]) << 16
                            | UInt32(inbox[at + 7]) << 8 | UInt32(inbox[at + 8])) & 0x7fff_ffff
            let f = H2Frame(type: inbox[at + 3], flags: inbox[at + 4], streamID: sid,
                            payload: Array(inbox[(at + 9)..<(at + 9 + length)]))
            at += 9 + length
            frames.append(f)
            switch f.type {
            case HTTP2RawFrame.FrameType.settings where f.flags & HTTP2RawFrame.Flag.ack == 0:
                acks += HTTP2RawFrame.settings(ack: true)
            case HTTP2RawFrame.FrameType.headers:
                // The gateway sends neither padding nor priority on its HEADERS.
                pendingBlock = (f.streamID, f.payload)
                if f.flags & HTTP2RawFrame.Flag.endHeaders != 0 { finishBlock() }
            case HTTP2RawFrame.FrameType.continuation:
                pendingBlock?.bytes += f.payload
                if f.flags & HTTP2RawFrame.Flag.endHeaders != 0 { finishBlock() }
            default:
                break
            }
        }
        inbox.removeFirst(at)
        if !acks.isEmpty && writable { send(acks) }
    }

    private func finishBlock() {
        guard let p = pendingBlock else { return }
        pendingBlock = nil
        blocks[p.streamID, default: []].append(decoder?.decode(p.bytes) ?? [("<undecodable>", "")])
    }

    // MARK: what the gateway sent

    /// The first GOAWAY: its last stream id and error code.
    var goAway: (lastStreamID: Int32, errorCode: UInt32)? {
        guard let f = frames.first(where: { $0.type == HTTP2RawFrame.FrameType.goAway }),
              let last = f.word(at: 0), let code = f.word(at: 4) else { return nil }
        return (Int32(bitPattern: last & 0x7fff_ffff), code)
    }

    /// The error code of the first RST_STREAM on `streamID`.
    func reset(_ streamID: Int32) -> UInt32? {
        frames.first { $0.type == HTTP2RawFrame.FrameType.rstStream && $0.streamID == streamID }?.word(at: 0)
    }

    /// `:status` of the stream's first header block.
    func status(_ streamID: Int32) -> Int? {
        blocks[streamID]?.first?.first { $0.name == ":status" }.flatMap { Int($0.value) }
    }

    /// True once a frame with END_STREAM arrived on the stream.
    func ended(_ streamID: Int32) -> Bool {
        frames.contains {
            $0.streamID == streamID && $0.flags & HTTP2RawFrame.Flag.endStream != 0
                && ($0.type == HTTP2RawFrame.FrameType.data || $0.type == HTTP2RawFrame.FrameType.headers)
        }
    }

    /// The stream's DATA payload so far.
    func body(_ streamID: Int32) -> [UInt8] {
        frames.filter { $0.type == HTTP2RawFrame.FrameType.data && $0.streamID == streamID }.flatMap(\.payload)
    }

    /// Frames of `type` received (with `flags` all set, when given).
    func count(_ type: UInt8, flags: UInt8 = 0) -> Int {
        frames.count { $0.type == type && $0.flags & flags == flags }
    }

    /// Something ended the stream: a reset, END_STREAM, or the connection.
    func isFinished(_ streamID: Int32) -> Bool {
        reset(streamID) != nil || ended(streamID) || goAway != nil || peerClosed
    }
}

/// `session-gateway serve` as a child process (so its memory is its own) on a loopback port, with routes to a
/// counting backend in the test process: `/public` (auth none) and `/api` (auth required).
///
/// Hostile streams use paths containing `hostile`; control requests use `/public/control`.
final class HostileGateway {
    let backend: RawUpstream
    let gateway: GatewayBinary
    let config: TempConfig
    let port: Int
    /// Control requests that got their 200 (each one request at the backend).
    private(set) var controls = 0
    /// Resident set size after the first control request, in KiB.
    private(set) var baselineRSS = 0

    init() throws {
        backend = try RawUpstream.counting()
        let (listen, admin) = (try freePort(), try freePort())
        port = listen
        do { config = try TempConfig(TempConfig.yaml(listen: listen, admin: admin, upstream: backend.port)) } catch {
            backend.stop()
            throw error
        }
        do {
            gateway = try GatewayBinary(["serve", "--config", config.path], environment: ["SHOPIFY_API_SECRET": TestStack.secret])
        } catch {
            backend.stop()
            config.remove()
            throw error
        }
        // Waiting for start-up, not a timing assertion: the limit only turns a hang into a failure.
        guard waitForListener(port: listen) else {
            let stderr = gateway.stderr
            stop()
            throw TestFailure("gateway did not start: \(stderr)")
        }
        // The baseline includes what the first HTTP/2 connections and upstream exchanges allocate once, on every
        // loop thread (connections are spread over the loops; a loop's first ones grow its malloc arena).
        for _ in 0..<4 { expectServes("before the attack") }
        baselineRSS = memory().rss
    }

    func stop() {
        gateway.kill()
        backend.stop()
        config.remove()
    }

    /// VmRSS and VmHWM (peak RSS) of the gateway process, in KiB, from /proc/<pid>/status.
    func memory() -> (rss: Int, peak: Int) {
        let text = (try? String(contentsOfFile: "/proc/\(gateway.pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
                return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
            }
            return -1
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// Memory growth allowed across one attack: the peak RSS (VmHWM, so a transient spike counts too) may exceed the
    /// baseline RSS by at most this much.
    ///
    /// Every buffer the gateway keeps per HTTP/2 connection is bounded well below it: the loop's 128 KiB read
    /// buffer, 256 KiB of queued output before it stops reading, 1000 queued SETTINGS/PING ACKs (nghttp2), 32 KiB of
    /// stored header fields, a 4 KiB HPACK table. An attack that were buffered instead of refused would exceed it
    /// many times over: the HPACK bomb decodes to ~570 MB of header fields, the floods are 45 KB to 1 MB on the wire
    /// but nghttp2 keeps ~100 bytes or more per queued frame. The rest of the bound is allocator slack (arenas of the
    /// gateway's loop threads).
    static let memoryBoundKiB = 16 * 1024

    /// The peak RSS stayed within `memoryBoundKiB` of the baseline, and the process is alive.
    func expectMemoryBounded(_ attack: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let m = memory()
        #expect(m.rss > 0 && m.peak > 0, "gateway process gone after \(attack)", sourceLocation: sourceLocation)
        let grown = m.peak - baselineRSS
        #expect(grown < Self.memoryBoundKiB,
                "\(attack): peak RSS \(m.peak) KiB, baseline \(baselineRSS) KiB (+\(grown) KiB)", sourceLocation: sourceLocation)
        print("h2hostile memory \(attack): baseline \(baselineRSS) KiB, rss \(m.rss) KiB, peak \(m.peak) KiB, +\(grown) KiB")
    }

    /// A normal client on a new connection gets its 200 through the gateway (from the backend).
    func expectServes(_ when: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let d = try H2Driver(port: port)
            let id = d.client.request(h2Get("/public/control"))
            #expect(d.pump { d.client.responses[id]?.endStreamReceived == true || d.client.responses[id]?.closed == true },
                    "no answer \(when)", sourceLocation: sourceLocation)
            let r = d.client.responses[id]
            #expect(r?.status == 200, "\(when): \(String(describing: r))", sourceLocation: sourceLocation)
            #expect(r?.body == Array("ok".utf8), "\(when)", sourceLocation: sourceLocation)
            if r?.status == 200 { controls += 1 }
        } catch {
            Issue.record("\(when): cannot connect: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Request heads of hostile streams that reached the backend.
    var hostileHeads: [String] { backend.receivedHeads.filter { $0.contains("hostile") } }

    /// A control request sent on a hostile connection got its 200.
    func countControl() { controls += 1 }

    /// Nothing of a hostile stream reached the backend: no head (unless `headMayPass`: a valid head that went out
    /// before the attack on its stream began), and every complete request was a control's.
    func expectNothingForwarded(_ attack: String, headMayPass: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
        if !headMayPass {
            #expect(hostileHeads.isEmpty, "\(attack) reached the backend: \(hostileHeads)", sourceLocation: sourceLocation)
        }
        #expect(backend.completeRequests == controls, "\(attack): \(backend.completeRequests) complete requests at the backend, \(controls) from controls", sourceLocation: sourceLocation)
    }
}

/// Request fields for a hostile stream's path.
func hostileGet(_ path: String, _ extra: [(String, String)] = []) -> [(String, String)] {
    h2Get("/public/hostile/" + path, extra)
}
