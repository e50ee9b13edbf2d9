import Foundation
import GatewayHTTP2
import HTTP2TestSupport
import Testing

private typealias F = HTTP2RawFrame
private typealias T = HTTP2RawFrame.FrameType

/// Hostile HTTP/2 clients written frame by frame against the real gateway (`session-gateway serve`, a child
/// process, over h2c with prior knowledge) in front of a backend that counts what reaches it.
///
/// Each attack must end its stream or its connection with the RFC 9113 error code, forward nothing of the hostile
/// stream, keep the gateway's memory bounded (`HostileGateway.memoryBoundKiB`), and leave the gateway serving a
/// normal client on another connection, during the attack and after it.
///
/// Where the RFC allows the traffic (SETTINGS, PING, empty DATA) and only its volume is hostile, the gateway answers
/// with nghttp2's flood guards, or its own for empty DATA: GOAWAY(ENHANCE_YOUR_CALM). Each test says which.
/// No assertion depends on the machine's speed: waits are deadlines that only turn a hang into a failure.
@Suite(.serialized)
struct HTTP2HostileFrameTests {
    static let protocolError = HTTP2ErrorCode.protocolError
    static let flowControlError = HTTP2ErrorCode.flowControlError
    static let enhanceYourCalm = HTTP2ErrorCode.enhanceYourCalm

    /// A valid request for `/public/control` (a control inside the hostile connection), as raw frames.
    static func controlHeaders(_ id: Int32) -> [UInt8] {
        F.headers(streamID: id, fields: h2Get("/public/control"), endStream: true)
    }

    /// `count` copies of `frame`, as one buffer.
    static func repeated(_ frame: [UInt8], _ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(frame.count * count)
        for _ in 0..<count { out += frame }
        return out
    }

    /// A hostile request's fields: `POST` to `/public/hostile/<name>` (auth none, so nothing but the gateway's
    /// HTTP/2 checks stands between it and the backend).
    static func hostilePost(_ name: String) -> [(String, String)] {
        [(":method", "POST"), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", "/public/hostile/" + name)]
    }

    // MARK: SETTINGS and PING floods

    /// 5,000 SETTINGS frames in one write (45 KB, one read for the gateway), no ACK read. RFC 9113 allows any number
    /// of SETTINGS; each needs an ACK, and a client that does not read them would have the server queue them without
    /// end. nghttp2 keeps at most 1000 queued ACKs (`max_outbound_ack`) and the gateway then ends the connection
    /// with GOAWAY(ENHANCE_YOUR_CALM), last stream 0.
    @Test func settingsFloodWithoutReadingTheAcks() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let c = try H2RawConnection(port: gw.port)
        c.send(Self.repeated(F.settings(), 5_000))
        gw.expectServes("during the SETTINGS flood")
        c.readUntilClosed()
        #expect(c.goAway?.errorCode == Self.enhanceYourCalm, "\(String(describing: c.goAway))")
        #expect(c.goAway?.lastStreamID == 0)
        #expect(c.peerClosed)
        let acks = c.count(T.settings, flags: HTTP2RawFrame.Flag.ack)
        #expect(acks <= 1_001, "\(acks) SETTINGS ACKs for 5,000 SETTINGS")
        print("h2hostile SETTINGS flood: \(acks) ACKs before GOAWAY")
        gw.expectNothingForwarded("SETTINGS flood")
        gw.expectServes("after the SETTINGS flood")
        gw.expectMemoryBounded("SETTINGS flood")
    }

    /// The same number of SETTINGS from a client that reads each batch's ACKs is served: nothing in the RFC limits
    /// them, and nothing queues up. The connection then carries a request.
    @Test func manySettingsReadAsTheyComeAreAcked() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let c = try H2RawConnection(port: gw.port)
        c.read { $0.count(T.settings, flags: HTTP2RawFrame.Flag.ack) >= 1 }
        for batch in 1...25 {
            c.send(Self.repeated(F.settings([(0x4, 65_535)]), 200))
            #expect(c.read { $0.count(T.settings, flags: HTTP2RawFrame.Flag.ack) >= 1 + 200 * batch }, "batch \(batch)")
        }
        #expect(c.goAway == nil)
        c.send(Self.controlHeaders(1))
        #expect(c.read { $0.ended(1) })
        #expect(c.status(1) == 200)
        if c.status(1) == 200 { gw.countControl() }
        gw.expectNothingForwarded("5,000 SETTINGS read as they come")
        gw.expectMemoryBounded("5,000 SETTINGS read as they come")
    }

    /// One SETTINGS frame with 64 entries: nghttp2 takes at most 32 per frame (`max_settings`), GOAWAY
    /// (ENHANCE_YOUR_CALM). Sent late, after a request on stream 1, so the GOAWAY's last stream is 1.
    @Test func settingsFrameWithTooManyEntries() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let c = try H2RawConnection(port: gw.port, then: Self.controlHeaders(1))
        #expect(c.read { $0.ended(1) })
        if c.status(1) == 200 { gw.countControl() }
        c.send(F.settings((0..<64).map { (UInt16(0x100 + $0), 1) }))
        c.readUntilClosed()
        #expect(c.goAway?.errorCode == Self.enhanceYourCalm, "\(String(describing: c.goAway))")
        #expect(c.goAway?.lastStreamID == 1)
        gw.expectNothingForwarded("SETTINGS with 64 entries")
        gw.expectServes("after SETTINGS with 64 entries")
        gw.expectMemoryBounded("SETTINGS with 64 entries")
    }

    /// 3,000 PINGs in one write (51 KB), no ACK read: as for SETTINGS, nghttp2 queues at most 1000 ACKs, then
    /// GOAWAY(ENHANCE_YOUR_CALM). A second flood on another connection is split over writes mid-frame.
    @Test func pingFloodWithoutReading() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let flood = Self.repeated(F.ping(0x0102_0304_0506_0708), 3_000)
        let c = try H2RawConnection(port: gw.port)
        c.send(flood)
        gw.expectServes("during the PING flood")
        c.readUntilClosed()
        #expect(c.goAway?.errorCode == Self.enhanceYourCalm, "\(String(describing: c.goAway))")
        #expect(c.goAway?.lastStreamID == 0)
        let acks = c.count(T.ping, flags: HTTP2RawFrame.Flag.ack)
        #expect(acks <= 1_000, "\(acks) PING ACKs for 3,000 PINGs")
        print("h2hostile PING flood: \(acks) ACKs before GOAWAY")

        // Split: 7 bytes, then the rest but 5, then 5 (each cut inside a frame).
        let split = try H2RawConnection(port: gw.port)
        split.send(pieces: [Array(flood[0..<7]), Array(flood[7..<(flood.count - 5)]), Array(flood[(flood.count - 5)...])])
        split.readUntilClosed()
        #expect(split.goAway?.errorCode == Self.enhanceYourCalm, "split: \(String(describing: split.goAway))")
        gw.expectNothingForwarded("PING flood")
        gw.expectServes("after the PING flood")
        gw.expectMemoryBounded("PING flood")
    }

    /// Rapid reset (CVE-2023-44487): 1,200 streams opened and reset at once, in one write. nghttp2 (Debian's fix)
    /// takes 1000 client resets in a burst and 33 a second after it, then sends GOAWAY(INTERNAL_ERROR) with the last
    /// stream it received, takes no new stream, and the gateway closes the connection once none is open. The streams
    /// are `/api` without a token (the gate answers them), so the backend sees nothing.
    @Test func rapidResetIsRefused() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        var flood: [UInt8] = []
        for i in 0..<1_200 {
            let id = Int32(2 * i + 1)
            flood += F.headers(streamID: id, fields: [(":method", "GET"), (":scheme", "http"), (":authority", "127.0.0.1"),
                                                      (":path", "/api/hostile/reset-\(i)")], endStream: true)
            flood += F.rstStream(streamID: id, errorCode: HTTP2ErrorCode.cancel)
        }
        let c = try H2RawConnection(port: gw.port)
        c.send(flood)
        gw.expectServes("during the rapid reset")
        c.readUntilClosed()
        #expect(c.goAway?.errorCode == HTTP2ErrorCode.internalError, "\(String(describing: c.goAway))")
        // The 1001st reset (stream 2001) trips it, later if a second passed meanwhile.
        #expect((2_001...2_399).contains(c.goAway?.lastStreamID ?? 0), "\(String(describing: c.goAway))")
        #expect(c.peerClosed)
        print("h2hostile rapid reset: GOAWAY last stream \(c.goAway?.lastStreamID ?? -1)")
        gw.expectNothingForwarded("rapid reset")
        gw.expectServes("after the rapid reset")
        gw.expectMemoryBounded("rapid reset")
    }

    // MARK: WINDOW_UPDATE

    /// Connection window: 65,535 plus two increments of 2^30 passes 2^31-1, FLOW_CONTROL_ERROR on the connection
    /// (RFC 9113 6.9.1). Sent early (with the preface), late (after a request, so the last stream is 1), and with
    /// the second frame split over two writes.
    @Test(arguments: ["early", "late", "split"])
    func connectionWindowOverflow(_ when: String) throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let step = F.windowUpdate(streamID: 0, increment: 1 << 30)
        let c: H2RawConnection
        switch when {
        case "early":
            c = try H2RawConnection(port: gw.port, then: step + step)
        case "late":
            c = try H2RawConnection(port: gw.port, then: Self.controlHeaders(1))
            #expect(c.read { $0.ended(1) })
            if c.status(1) == 200 { gw.countControl() }
            c.send(step)
            gw.expectServes("between the two WINDOW_UPDATEs")
            c.send(step)
        default:
            c = try H2RawConnection(port: gw.port)
            c.send(pieces: [step + Array(step[0..<6]), Array(step[6...])])
        }
        c.readUntilClosed()
        #expect(c.goAway?.errorCode == Self.flowControlError, "\(when): \(String(describing: c.goAway))")
        #expect(c.goAway?.lastStreamID == (when == "late" ? 1 : 0))
        gw.expectNothingForwarded("connection window overflow")
        gw.expectServes("after the connection window overflow")
        gw.expectMemoryBounded("connection window overflow (\(when))")
    }

    /// Stream window: the same two increments on an open stream: RST_STREAM(FLOW_CONTROL_ERROR) for that stream
    /// (RFC 9113 6.9.1), and the connection goes on. The stream is `/api` without a token, refused by the gate, so
    /// nothing at all may reach the backend.
    @Test func streamWindowOverflow() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let head = F.headers(streamID: 1, fields: [(":method", "POST"), (":scheme", "http"), (":authority", "127.0.0.1"),
                                                   (":path", "/api/hostile/window")], endStream: false)
        let step = F.windowUpdate(streamID: 1, increment: 1 << 30)
        let c = try H2RawConnection(port: gw.port, then: head + step + step)
        #expect(c.read { $0.reset(1) != nil || $0.goAway != nil })
        #expect(c.reset(1) == Self.flowControlError, "\(c.frames.map(\.type))")
        #expect(c.goAway == nil)
        c.send(Self.controlHeaders(3))
        #expect(c.read { $0.ended(3) })
        #expect(c.status(3) == 200)
        if c.status(3) == 200 { gw.countControl() }
        gw.expectNothingForwarded("stream window overflow")
        gw.expectServes("after the stream window overflow")
        gw.expectMemoryBounded("stream window overflow")
    }

    /// A zero increment is a PROTOCOL_ERROR (RFC 9113 6.9): a connection error on stream 0; on a stream the RFC
    /// asks for a stream error, which nghttp2 escalates to a connection error, as RFC 9113 5.4.1 allows
    /// ("an endpoint MAY choose to treat a stream error as a connection error"). Either way, GOAWAY(PROTOCOL_ERROR).
    /// On stream 1 early (in the HEADERS' write; `/api` without a token, which the gate refuses, so nothing may reach
    /// the backend) and late (on an upload whose head went to the backend; a closed stream's WINDOW_UPDATE is
    /// ignored, so the stream must still be open).
    @Test(arguments: [(Int32(0), "late"), (1, "early"), (1, "late")])
    func zeroWindowIncrement(_ streamID: Int32, _ when: String) throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let zero = F.windowUpdate(streamID: streamID, increment: 0)
        let c: H2RawConnection
        switch (streamID, when) {
        case (0, _):
            c = try H2RawConnection(port: gw.port)
            #expect(c.read { $0.count(T.settings) >= 1 })
            c.send(zero)
        case (_, "early"):
            let head = F.headers(streamID: 1, fields: [(":method", "POST"), (":scheme", "http"), (":authority", "127.0.0.1"),
                                                       (":path", "/api/hostile/zero-window")], endStream: false)
            c = try H2RawConnection(port: gw.port, then: head + zero)
        default:
            c = try H2RawConnection(port: gw.port, then: F.headers(streamID: 1, fields: Self.hostilePost("zero-window"),
                                                                   endStream: false))
            #expect(waitFor(10) { !gw.hostileHeads.isEmpty })
            c.send(zero)
        }
        c.readUntilClosed()
        #expect(c.goAway?.errorCode == Self.protocolError, "stream \(streamID) \(when): \(String(describing: c.goAway))")
        #expect(c.goAway?.lastStreamID == streamID)
        gw.expectNothingForwarded("zero WINDOW_UPDATE", headMayPass: when == "late")
        gw.expectServes("after a zero WINDOW_UPDATE")
        gw.expectMemoryBounded("zero WINDOW_UPDATE on stream \(streamID), \(when)")
    }

    // MARK: zero-length DATA

    /// 30,000 zero-length DATA frames without END_STREAM on an open request stream, in writes of 2,000. The RFC
    /// allows empty DATA; a flood of them costs the server CPU and the client nothing, not even flow-control window
    /// (CVE-2019-9518). The gateway allows a burst of 10,000 and 330 a second after it (nghttp2 1.67's numbers for
    /// the same check), then GOAWAY(ENHANCE_YOUR_CALM).
    ///
    /// The head of this stream is a valid streaming upload and may reach the backend before the flood is judged;
    /// the flood itself forwards nothing: no body byte, and the request never completes there.
    @Test func zeroLengthDataFlood() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let empty = Self.repeated(F.data(streamID: 1), 2_000)
        let c = try H2RawConnection(port: gw.port, then: F.headers(streamID: 1, fields: Self.hostilePost("empty-data"),
                                                                   endStream: false) + empty)
        gw.expectServes("during the empty DATA flood")
        var sent = 2_000
        while sent < 30_000 && c.send(empty) {
            sent += 2_000
            if c.read(timeout: 0.001, until: { $0.goAway != nil }) { break }
        }
        c.readUntilClosed()
        #expect(c.goAway?.errorCode == Self.enhanceYourCalm, "\(sent) empty DATA sent: \(String(describing: c.goAway))")
        #expect(c.goAway?.lastStreamID == 1)
        #expect(c.status(1) == nil, "the flooding stream was answered \(String(describing: c.status(1)))")
        print("h2hostile empty DATA flood: GOAWAY after at most \(sent) frames sent")
        #expect(gw.hostileHeads.allSatisfy { $0.lowercased().contains("transfer-encoding: chunked") }, "\(gw.hostileHeads)")
        gw.expectNothingForwarded("empty DATA flood", headMayPass: true)
        gw.expectServes("after the empty DATA flood")
        gw.expectMemoryBounded("empty DATA flood")
    }

    // MARK: CONTINUATION

    /// HEADERS without END_HEADERS, then 10,000 CONTINUATION frames of one 7-byte field each, written in pieces
    /// (the first cut inside a frame header, a control request between them). A header block has no length limit in
    /// the RFC, but the gateway's is 32 KiB, and nghttp2 (Debian's fix for CVE-2024-28182) takes at most 8
    /// CONTINUATION frames per block: GOAWAY(ENHANCE_YOUR_CALM) after the 9th. The stream never reaches the backend.
    @Test func continuationFlood() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let head = F.headers(streamID: 1, block: HPACKBytes.block(hostileGet("continuation-flood")), endStream: true,
                             endHeaders: false)
        let one = F.continuation(streamID: 1, block: HPACKBytes.literal("x-c", "1"), endHeaders: false)
        let c = try H2RawConnection(port: gw.port, then: head + Self.repeated(one, 3))
        // Cut inside the 5th frame's header.
        c.send(pieces: [Self.repeated(one, 1) + Array(one[0..<4]), Array(one[4...])])
        gw.expectServes("during the CONTINUATION flood")
        var sent = 5
        let chunk = Self.repeated(one, 500)
        while sent < 9_999 && c.send(chunk) {
            sent += 500
            if c.read(timeout: 0.001, until: { $0.goAway != nil }) { break }
        }
        if sent >= 9_999 { c.send(F.continuation(streamID: 1, block: HPACKBytes.literal("x-c", "1"), endHeaders: true)) }
        c.readUntilClosed()
        #expect(c.goAway?.errorCode == Self.enhanceYourCalm, "\(sent) CONTINUATION sent: \(String(describing: c.goAway))")
        // Stream 1 was opened by its HEADERS (nghttp2 counts it processed), though it never got to the gateway's
        // request handling: last stream 1 tells the client only that retrying it elsewhere is not safe.
        #expect(c.goAway?.lastStreamID == 1)
        #expect(c.status(1) == nil)
        print("h2hostile CONTINUATION flood: GOAWAY after at most \(sent) CONTINUATION frames sent")
        gw.expectNothingForwarded("CONTINUATION flood")
        gw.expectServes("after the CONTINUATION flood")
        gw.expectMemoryBounded("CONTINUATION flood")
    }

    /// A header block must be one HEADERS and its CONTINUATION frames, back to back on the same stream (RFC 9113
    /// 6.10): anything else, or a CONTINUATION with no open block, is a connection error PROTOCOL_ERROR. Each case on
    /// its own connection, whole in one write and then with the offending frame sent late, in a write of its own.
    @Test func continuationOutOfPlace() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let block = HPACKBytes.block(hostileGet("continuation"))
        let (half1, half2) = (Array(block[0..<(block.count / 2)]), Array(block[(block.count / 2)...]))
        let open1 = F.headers(streamID: 1, block: half1, endStream: true, endHeaders: false)
        let cases: [(String, [UInt8], [UInt8])] = [
            ("CONTINUATION on another stream", open1, F.continuation(streamID: 3, block: half2, endHeaders: true)),
            ("PING inside a header block", open1, F.ping(7)),
            ("DATA inside a header block", open1, F.data(streamID: 1, [0x61])),
            ("HEADERS of another stream inside a header block", open1,
             F.headers(streamID: 3, fields: hostileGet("continuation-3"), endStream: true)),
            ("WINDOW_UPDATE inside a header block", open1, F.windowUpdate(streamID: 0, increment: 1)),
            ("CONTINUATION with no HEADERS", [], F.continuation(streamID: 1, block: block, endHeaders: true)),
            ("CONTINUATION after a complete HEADERS", F.headers(streamID: 1, fields: hostileGet("complete"), endStream: false),
             F.continuation(streamID: 1, block: HPACKBytes.literal("x-c", "1"), endHeaders: true)),
            ("CONTINUATION after DATA", F.headers(streamID: 1, fields: Self.hostilePost("after-data"), endStream: false)
                + F.data(streamID: 1, [0x61]),
             F.continuation(streamID: 1, block: HPACKBytes.literal("x-c", "1"), endHeaders: true)),
        ]
        for (name, first, offending) in cases {
            for late in [false, true] {
                let c = try H2RawConnection(port: gw.port, then: late ? first : first + offending)
                if late {
                    #expect(c.read { $0.count(T.settings) >= 1 }, "\(name)")
                    c.send(offending)
                }
                c.readUntilClosed()
                #expect(c.goAway?.errorCode == Self.protocolError, "\(name), late \(late): \(String(describing: c.goAway))")
                #expect(c.status(1) == nil && c.status(3) == nil, "\(name): a stream was answered")
            }
        }
        gw.expectNothingForwarded("CONTINUATION out of place", headMayPass: true)
        gw.expectServes("after CONTINUATION out of place")
        gw.expectMemoryBounded("CONTINUATION out of place")
    }

    // MARK: HPACK bomb

    /// One 4,000-byte field enters the HPACK dynamic table, then one header block references it ~127,000 times, one
    /// byte each: HEADERS plus 7 CONTINUATION frames of 16 KiB, ~520 MB of fields once decoded. The gateway stops
    /// storing fields at its 32 KiB header list limit and answers 431 (RFC 9113 10.5.1), ending the stream; the
    /// connection goes on (HPACK state intact). The blocks go out one write each, a control request after the first.
    @Test func hpackBombInTheHead() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let c = try H2RawConnection(port: gw.port)
        let frames = Self.bomb(streamID: 1, fields: hostileGet("bomb"), endStream: true)
        c.send(frames[0])
        gw.expectServes("during the HPACK bomb")
        c.send(pieces: Array(frames.dropFirst()))
        #expect(c.read(timeout: 20) { $0.ended(1) || $0.reset(1) != nil })
        #expect(c.status(1) == 431, "\(String(describing: c.blocks[1]))")
        #expect(c.goAway == nil)
        // The same connection serves a normal request after it.
        c.send(Self.controlHeaders(3))
        #expect(c.read { $0.ended(3) })
        #expect(c.status(3) == 200)
        if c.status(3) == 200 { gw.countControl() }
        gw.expectNothingForwarded("HPACK bomb")
        gw.expectServes("after the HPACK bomb")
        gw.expectMemoryBounded("HPACK bomb (head)")
    }

    /// The same bomb as a request's trailers: the head went to the backend already (a streaming upload), so the
    /// stream is reset, RST_STREAM(ENHANCE_YOUR_CALM), and the upload never completes at the backend.
    @Test func hpackBombInTrailers() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let c = try H2RawConnection(port: gw.port, then: F.headers(streamID: 1, fields: Self.hostilePost("bomb-trailers"),
                                                                   endStream: false) + F.data(streamID: 1, [0x61, 0x62]))
        // Late: once the head is at the backend.
        #expect(waitFor(10) { !gw.hostileHeads.isEmpty })
        let frames = Self.bomb(streamID: 1, fields: [], endStream: true)
        c.send(frames[0])
        gw.expectServes("during the HPACK bomb in trailers")
        c.send(pieces: Array(frames.dropFirst()))
        #expect(c.read(timeout: 20) { $0.reset(1) != nil || $0.goAway != nil })
        #expect(c.reset(1) == Self.enhanceYourCalm, "\(c.frames.map(\.type))")
        #expect(c.goAway == nil)
        gw.expectNothingForwarded("HPACK bomb in trailers", headMayPass: true)
        gw.expectServes("after the HPACK bomb in trailers")
        gw.expectMemoryBounded("HPACK bomb (trailers)")
    }

    /// HEADERS and 7 CONTINUATION frames of 16 KiB: `fields` as literals, one 4,000-byte field added to the dynamic
    /// table, then one-byte references to it (index 62) to the end. One array per frame.
    static func bomb(streamID: Int32, fields: [(String, String)], endStream: Bool) -> [[UInt8]] {
        let maxFrame = 16_384
        var first = HPACKBytes.block(fields) + HPACKBytes.literalIndexed("x-bomb", [UInt8](repeating: 0x61, count: 4_000))
        let ref = HPACKBytes.indexed(62)
        first += Self.repeated(ref, maxFrame - first.count)
        var out = [F.headers(streamID: streamID, block: first, endStream: endStream, endHeaders: false)]
        for i in 0..<7 {
            out.append(F.continuation(streamID: streamID, block: Self.repeated(ref, maxFrame), endHeaders: i == 6))
        }
        return out
    }

    // MARK: malformed requests (RFC 9113 8.1.1, 8.2, 8.3)

    /// Request heads the RFC calls malformed, each on a new stream of one connection: RST_STREAM(PROTOCOL_ERROR),
    /// no answer, nothing forwarded, and the connection carries a valid request afterwards.
    static let malformedHeads: [(String, [(String, String)])] = {
        let m = (":method", "GET"), s = (":scheme", "http"), a = (":authority", "127.0.0.1")
        func p(_ name: String) -> (String, String) { (":path", "/public/hostile/" + name) }
        return [
            ("missing :method", [s, a, p("no-method")]),
            ("missing :scheme", [m, a, p("no-scheme")]),
            ("missing :path", [m, s, a]),
            ("only :path", [p("only-path")]),
            ("duplicated :method", [m, m, s, a, p("dup-method")]),
            ("duplicated :method, another value", [m, (":method", "POST"), s, a, p("dup-method-post")]),
            ("duplicated :scheme", [m, s, (":scheme", "https"), a, p("dup-scheme")]),
            ("duplicated :path", [m, s, a, p("dup-path-1"), p("dup-path-2")]),
            ("duplicated :authority", [m, s, a, (":authority", "evil.example"), p("dup-authority")]),
            ("duplicated :path, apart", [p("dup-apart-1"), m, s, a, p("dup-apart-2")]),
            (":path after a regular field", [m, s, a, ("user-agent", "x"), p("path-last")]),
            (":method after a regular field", [s, a, p("method-last"), ("accept", "*/*"), m]),
            (":authority after a regular field", [m, s, p("authority-last"), ("x-a", "1"), a]),
            ("pseudo-headers between regular fields", [m, s, ("x-a", "1"), a, ("x-b", "2"), p("between")]),
            ("unknown pseudo first", [(":foo", "bar"), m, s, a, p("foo-first")]),
            ("unknown pseudo last", [m, s, a, p("foo-last"), (":foo", "bar")]),
            (":status in a request", [m, s, a, p("status"), (":status", "200")]),
            (":status first", [(":status", "200"), m, s, a, p("status-first")]),
            ("empty :path", [m, s, a, (":path", "")]),
            ("empty :method", [(":method", ""), s, a, p("empty-method")]),
            ("empty :scheme", [m, (":scheme", ""), a, p("empty-scheme")]),
            (":path without a leading slash", [m, s, a, (":path", "public/hostile/relative")]),
            (":path * with GET", [m, s, a, (":path", "*")]),
            (":protocol without CONNECT", [m, s, a, p("protocol"), (":protocol", "websocket")]),
            ("upper-case pseudo :PATH", [m, s, a, (":PATH", "/public/hostile/upper-pseudo")]),
            ("upper-case field name", [m, s, a, p("upper"), ("User-Agent", "x")]),
            ("upper-case X-Shop-Domain", [m, s, a, p("upper-shop"), ("X-Shop-Domain", "victim.myshopify.com")]),
            ("connection", [m, s, a, p("connection"), ("connection", "keep-alive")]),
            ("keep-alive", [m, s, a, p("keep-alive"), ("keep-alive", "timeout=5")]),
            ("proxy-connection", [m, s, a, p("proxy-connection"), ("proxy-connection", "keep-alive")]),
            ("transfer-encoding", [m, s, a, p("transfer-encoding"), ("transfer-encoding", "chunked")]),
            ("upgrade", [m, s, a, p("upgrade"), ("upgrade", "websocket")]),
            ("te: gzip", [m, s, a, p("te-gzip"), ("te", "gzip")]),
            ("te: trailers, deflate", [m, s, a, p("te-list"), ("te", "trailers, deflate")]),
            ("CR LF in a value", [m, s, a, p("crlf"), ("x-a", "1\r\nx-shop-domain: victim.myshopify.com")]),
            ("NUL in a value", [m, s, a, p("nul"), ("x-a", "1\u{0}2")]),
            ("leading space in a value", [m, s, a, p("leading-space"), ("x-a", " 1")]),
            ("space in a name", [m, s, a, p("space-name"), ("x a", "1")]),
            ("colon inside a name", [m, s, a, p("colon-name"), ("x:a", "1")]),
            ("empty name", [m, s, a, p("empty-name"), ("", "1")]),
            ("content-length not a number", [m, s, a, p("cl-text"), ("content-length", "1e3")]),
            ("two content-length", [m, s, a, p("cl-two"), ("content-length", "0"), ("content-length", "0")]),
        ]
    }()

    /// Sent early (the first one with the preface), split inside the header block (every third), and the first one
    /// again at the end (twice, late).
    @Test func malformedRequestHeadsAreResetWithProtocolError() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        var cases = Self.malformedHeads
        if let first = cases.first { cases.append(("\(first.0), again", first.1)) }
        let c = try H2RawConnection(port: gw.port, then: F.headers(streamID: 1, fields: cases[0].1, endStream: true))
        var id: Int32 = 1
        for (i, (name, fields)) in cases.enumerated() {
            if i > 0 {
                let frame = F.headers(streamID: id, fields: fields, endStream: true)
                if i % 3 == 0 {
                    let cut = 9 + (frame.count - 9) / 2
                    c.send(pieces: [Array(frame[0..<cut]), Array(frame[cut...])])
                } else {
                    c.send(frame)
                }
            }
            #expect(c.read { $0.isFinished(id) }, "\(name): no answer")
            #expect(c.reset(id) == Self.protocolError, "\(name): reset \(String(describing: c.reset(id))), status \(String(describing: c.status(id)))")
            #expect(c.status(id) == nil, "\(name) was answered")
            #expect(c.goAway == nil, "\(name): \(String(describing: c.goAway))")
            id += 2
            if i == cases.count / 2 { gw.expectServes("during the malformed request heads") }
        }
        // The connection, its HPACK state included, is intact.
        c.send(Self.controlHeaders(id))
        #expect(c.read { $0.ended(id) })
        #expect(c.status(id) == 200)
        if c.status(id) == 200 { gw.countControl() }
        gw.expectNothingForwarded("malformed request heads")
        #expect(!gw.backend.receivedHeads.contains { $0.lowercased().contains("victim") }, "\(gw.backend.receivedHeads)")
        gw.expectServes("after the malformed request heads")
        gw.expectMemoryBounded("malformed request heads")
    }

    /// Trailers follow the same rules, and may hold no pseudo-header at all (RFC 9113 8.1): RST_STREAM
    /// (PROTOCOL_ERROR). The head was a valid upload, so it may be at the backend already (every other case waits
    /// until it is, then sends the trailers late); the upload then never completes there.
    static let malformedTrailers: [(String, [(String, String)])] = [
        (":path in trailers", [(":path", "/public/hostile/trailer")]),
        (":method in trailers", [(":method", "GET")]),
        (":status in trailers", [(":status", "200")]),
        ("unknown pseudo in trailers", [(":foo", "bar")]),
        ("pseudo after a regular trailer", [("x-checksum", "1"), (":authority", "evil.example")]),
        ("upper-case trailer name", [("X-Checksum", "1")]),
        ("connection in trailers", [("connection", "close")]),
        ("transfer-encoding in trailers", [("transfer-encoding", "chunked")]),
        ("upgrade in trailers", [("upgrade", "websocket")]),
        ("te: gzip in trailers", [("te", "gzip")]),
        ("CR LF in a trailer value", [("x-checksum", "1\r\nx-shop-domain: victim.myshopify.com")]),
    ]

    @Test func malformedTrailersAreResetWithProtocolError() throws {
        let gw = try HostileGateway()
        defer { gw.stop() }
        let c = try H2RawConnection(port: gw.port)
        var id: Int32 = 1
        for (i, (name, trailers)) in Self.malformedTrailers.enumerated() {
            let head = F.headers(streamID: id, fields: Self.hostilePost("trailers-\(i)"), endStream: false)
                + F.data(streamID: id, Array("body".utf8))
            let tail = F.headers(streamID: id, fields: trailers, endStream: true)
            if i % 2 == 1 {
                let before = gw.hostileHeads.count
                c.send(head)
                #expect(waitFor(10) { gw.hostileHeads.count > before }, "\(name): the head never reached the backend")
                c.send(tail)
            } else {
                c.send(head + tail)
            }
            #expect(c.read { $0.isFinished(id) }, "\(name): no answer")
            #expect(c.reset(id) == Self.protocolError, "\(name): reset \(String(describing: c.reset(id))), status \(String(describing: c.status(id)))")
            #expect(c.goAway == nil, "\(name): \(String(describing: c.goAway))")
            id += 2
            if i == Self.malformedTrailers.count / 2 { gw.expectServes("during the malformed trailers") }
        }
        c.send(Self.controlHeaders(id))
        #expect(c.read { $0.ended(id) })
        #expect(c.status(id) == 200)
        if c.status(id) == 200 { gw.countControl() }
        gw.expectNothingForwarded("malformed trailers", headMayPass: true)
        #expect(!gw.backend.receivedHeads.contains { $0.lowercased().contains("victim") }, "\(gw.backend.receivedHeads)")
        gw.expectServes("after the malformed trailers")
        gw.expectMemoryBounded("malformed trailers")
    }
}
