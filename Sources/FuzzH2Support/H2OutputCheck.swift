/// The server's output read back as frames: each must be whole and well-formed, responses only on streams the
/// upstream answered, header blocks that decode to a clean response head.
struct H2OutputCheck {
    /// One frame, for the comparison of runs.
    struct Frame: Equatable {
        var type: UInt8
        var flags: UInt8
        var stream: Int32
        var payload: [UInt8]
    }

    var frames: [Frame] = []
    /// GOAWAY frames sent: last stream id and error code.
    var goAways: [(last: Int32, code: UInt32)] = []
    var violations: [String] = []
    private var offset = 0
    private var sawErrorGoAway = false
    private var pendingBlock: [UInt8]?
    private var pendingStream: Int32 = 0
    private let decoder = HPACKDecoder()
    private var decoderBroken = false

    /// Reads the output produced since the last call; `bytes` is the whole output so far.
    mutating func read(_ bytes: [UInt8], maxPayload: Int, answered: Set<Int32>, highestStream: Int32) {
        while bytes.count - offset >= 9 {
            let at = offset
            let length = Int(bytes[at]) << 16 | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2])
            let type = bytes[at + 3]
            let flags = bytes[at + 4]
            if bytes[at + 5] & 0x80 != 0 { violations.append("output frame with the reserved bit set") }
            let sid = Int32(bitPattern: UInt32(bytes[at + 5] & 0x7f) << 24 | UInt32(bytes[at + 6]) << 16
                                         | UInt32(bytes[at + 7]) << 8 | UInt32(bytes[at + 8]))
            guard bytes.count - at - 9 >= length else { break }
            let payload = Array(bytes[(at + 9)..<(at + 9 + length)])
            offset = at + 9 + length
            check(Frame(type: type, flags: flags, stream: sid, payload: payload), maxPayload: maxPayload, answered: answered,
                  highestStream: highestStream)
        }
    }

    /// All output read: nothing may be left over.
    mutating func finish(_ bytes: [UInt8]) {
        if offset != bytes.count { violations.append("output ends inside a frame (\(bytes.count - offset) bytes left)") }
        if pendingBlock != nil { violations.append("output ends inside a header block") }
    }

    private mutating func check(_ f: Frame, maxPayload: Int, answered: Set<Int32>, highestStream: Int32) {
        let n = f.payload.count
        if frames.isEmpty && (f.type != 0x4 || f.flags & 0x1 != 0) { violations.append("output does not begin with SETTINGS") }
        if sawErrorGoAway { violations.append("frame type \(f.type) after a GOAWAY with an error") }
        if n > maxPayload { violations.append("output frame of \(n) bytes over the peer's \(maxPayload)") }
        if pendingBlock != nil && (f.type != 0x9 || f.stream != pendingStream) {
            violations.append("frame type \(f.type) inside a header block")
        }
        let onStream = f.stream != 0
        switch f.type {
        case 0x0, 0x1:
            if !onStream || f.stream & 1 == 0 || f.stream > highestStream { violations.append("response on bad stream \(f.stream)") }
            if !answered.contains(f.stream) { violations.append("response frame on stream \(f.stream) nobody answered") }
            if f.flags & 0x8 != 0 || f.flags & 0x20 != 0 { violations.append("padded or prioritized output frame") }
            if f.type == 0x1 {
                pendingBlock = f.payload
                pendingStream = f.stream
                if f.flags & 0x4 != 0 { endBlock() }
            }
        case 0x9:
            if pendingBlock == nil || f.stream != pendingStream { violations.append("stray CONTINUATION") }
            pendingBlock? += f.payload
            if f.flags & 0x4 != 0 { endBlock() }
        case 0x3:
            if !onStream || n != 4 { violations.append("bad RST_STREAM (stream \(f.stream), \(n) bytes)") }
        case 0x4:
            if onStream || (f.flags & 0x1 != 0 ? n != 0 : n % 6 != 0) { violations.append("bad SETTINGS (\(n) bytes)") }
        case 0x6:
            if onStream || n != 8 { violations.append("bad PING (\(n) bytes)") }
        case 0x7:
            if onStream || n < 8 {
                violations.append("bad GOAWAY (\(n) bytes)")
            } else {
                let last = Int32(bitPattern: UInt32(f.payload[0] & 0x7f) << 24 | UInt32(f.payload[1]) << 16
                                              | UInt32(f.payload[2]) << 8 | UInt32(f.payload[3]))
                let code = UInt32(f.payload[4]) << 24 | UInt32(f.payload[5]) << 16 | UInt32(f.payload[6]) << 8 | UInt32(f.payload[7])
                goAways.append((last, code))
                if code != 0 { sawErrorGoAway = true }
            }
        case 0x8:
            if n != 4 {
                violations.append("bad WINDOW_UPDATE (\(n) bytes)")
            } else {
                let inc = UInt32(f.payload[0] & 0x7f) << 24 | UInt32(f.payload[1]) << 16 | UInt32(f.payload[2]) << 8 | UInt32(f.payload[3])
                if inc == 0 { violations.append("WINDOW_UPDATE of 0") }
            }
        default:
            violations.append("output frame of type \(f.type)")
        }
        frames.append(f)
    }

    /// A response header block: :status first and once (three digits), then lower-case clean fields.
    private mutating func endBlock() {
        guard let block = pendingBlock else { return }
        pendingBlock = nil
        guard !decoderBroken, let fields = decoder.decode(block) else {
            decoderBroken = true
            violations.append("output header block does not decode")
            return
        }
        // Trailers carry no :status; a head carries it first.
        let isHead = fields.first?.name == Array(":status".utf8)
        if isHead, let v = fields.first?.value, v.count != 3 || !v.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            violations.append("bad :status")
        }
        for f in fields.dropFirst(isHead ? 1 : 0) {
            if let p = H2StrictRules.fieldProblem(f) { violations.append("response field: \(p)") }
            if f.name.first == UInt8(ascii: ":") { violations.append("response pseudo-header \(f.nameString) out of place") }
        }
    }
}
