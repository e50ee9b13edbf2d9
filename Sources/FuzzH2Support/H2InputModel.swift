/// What the client bytes carry, read by the fuzz checks themselves (frame by frame, HPACK decoded with a decoder of
/// their own): the reference that the requests the session forwards are compared with.
///
/// It follows frame boundaries as any HTTP/2 server must, and stops where the connection cannot go on (bad preface,
/// oversized frame, broken header block sequence, bad padding, a block that does not decode). It validates nothing
/// else: `H2StrictRules` judges the requests.
struct H2InputModel {
    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// One stream as the client sent it.
    struct Stream {
        /// Header blocks in order (request head, then trailers); nil for one that did not decode.
        var blocks: [[H2Field]?] = []
        /// Whether each block's HEADERS frame carried END_STREAM.
        var blockEndStream: [Bool] = []
        /// DATA payloads (padding removed), concatenated in order.
        var body: [UInt8] = []
        /// `body.count` when END_STREAM arrived (on HEADERS or DATA), if it did.
        var bodyAtEnd: Int?
        /// Input offset just past the client's first RST_STREAM for the stream.
        var resetAt: Int?
    }

    var streams: [Int32: Stream] = [:]
    /// The input begins with the client connection preface.
    var prefaceOK = false
    /// Input offset where the reading stopped (a connection error, or the input ended mid-frame).
    var stoppedAt = 0
    /// The client's SETTINGS_MAX_FRAME_SIZE, the largest frame payload the server may send it.
    var peerMaxFrameSize = 16_384
    /// Highest stream id on which the client sent HEADERS.
    var highestStreamID: Int32 = 0

    init(_ bytes: UnsafeRawBufferPointer, maxFrameSize: Int) {
        let decoder = HPACKDecoder()
        guard bytes.count >= H2InputModel.preface.count,
              H2InputModel.preface.elementsEqual(bytes[0..<H2InputModel.preface.count]) else { return }
        prefaceOK = true
        var at = H2InputModel.preface.count
        // The header block being assembled: stream, fragments so far, END_STREAM of its HEADERS.
        var pending: (stream: Int32, block: [UInt8], endStream: Bool)?
        var decoderBroken = false
        stoppedAt = at
        while bytes.count - at >= 9 {
            let length = Int(bytes[at]) << 16 | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2])
            let type = bytes[at + 3]
            let flags = bytes[at + 4]
            let sid = Int32(bitPattern: UInt32(bytes[at + 5] & 0x7f) << 24 | UInt32(bytes[at + 6]) << 16
                                         | UInt32(bytes[at + 7]) << 8 | UInt32(bytes[at + 8]))
            if length > maxFrameSize { return }
            guard bytes.count - at - 9 >= length else {
                // A DATA frame cut short by the end of input: nghttp2 hands its payload over as it arrives.
                if type == 0x0, sid != 0, pending == nil, streams[sid]?.bodyAtEnd == nil {
                    var have = Array(bytes[(at + 9)...])
                    if flags & 0x8 != 0 {
                        guard let pad = have.first else { return }
                        have.removeFirst()
                        have = Array(have.prefix(max(0, length - 1 - Int(pad))))
                    }
                    streams[sid, default: Stream()].body += have
                }
                return
            }
            let end = at + 9 + length
            // Copied only for the frames whose payload is kept.
            let payload = type <= 0x1 || type == 0x9 || type == 0x4 ? Array(bytes[(at + 9)..<end]) : []
            if let p = pending, type != 0x9 || sid != p.stream { return }
            switch type {
            case 0x0:  // DATA
                // Bad padding is a connection error on an open stream, but nghttp2 skips a DATA frame for a closed
                // stream unread: the reading goes on either way (nothing is forwarded after a connection error).
                if sid != 0, let data = H2InputModel.unpadded(payload, flags: flags, priority: false) {
                    var st = streams[sid] ?? Stream()
                    if st.bodyAtEnd == nil {
                        st.body += data
                        if flags & 0x1 != 0 { st.bodyAtEnd = st.body.count }
                    }
                    streams[sid] = st
                }
            case 0x1:  // HEADERS
                guard let fragment = H2InputModel.unpadded(payload, flags: flags, priority: flags & 0x20 != 0) else { return }
                pending = (sid, fragment, flags & 0x1 != 0)
                if sid > highestStreamID { highestStreamID = sid }
            case 0x9:  // CONTINUATION
                guard pending != nil else { return }
                pending?.block += payload
            case 0x3:  // RST_STREAM
                if sid != 0, length == 4, streams[sid]?.resetAt == nil { streams[sid, default: Stream()].resetAt = end }
            case 0x4:  // SETTINGS
                if flags & 0x1 == 0 && length % 6 == 0 {
                    var i = 0
                    while i + 6 <= length {
                        let id = Int(payload[i]) << 8 | Int(payload[i + 1])
                        let v = Int(payload[i + 2]) << 24 | Int(payload[i + 3]) << 16 | Int(payload[i + 4]) << 8 | Int(payload[i + 5])
                        if id == 0x5 && v >= 16_384 && v <= 16_777_215 { peerMaxFrameSize = v }
                        i += 6
                    }
                }
            default:
                break
            }
            if let p = pending, flags & 0x4 != 0, type == 0x1 || type == 0x9 {
                pending = nil
                let fields = decoderBroken ? nil : decoder.decode(p.block)
                if fields == nil { decoderBroken = true }
                var st = streams[p.stream] ?? Stream()
                st.blocks.append(fields)
                st.blockEndStream.append(p.endStream)
                if p.endStream && st.bodyAtEnd == nil { st.bodyAtEnd = st.body.count }
                streams[p.stream] = st
            }
            at = end
            stoppedAt = at
        }
    }

    /// The payload without its padding (and priority fields); nil when the padding does not fit (PROTOCOL_ERROR).
    static func unpadded(_ payload: [UInt8], flags: UInt8, priority: Bool) -> [UInt8]? {
        var start = 0
        var pad = 0
        if flags & 0x8 != 0 {
            guard let first = payload.first else { return nil }
            pad = Int(first)
            start = 1
        }
        if priority { start += 5 }
        guard payload.count - start >= pad else { return nil }
        return Array(payload[start..<(payload.count - pad)])
    }
}
