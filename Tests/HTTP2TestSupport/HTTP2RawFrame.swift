/// HTTP/2 frames written byte by byte, for what a well-behaved nghttp2 client refuses to send (h2spec-style cases).
public enum HTTP2RawFrame {
    /// A PRIORITY frame (RFC 9113 6.3): `streamID` depends on `dependsOn`. `payloadLength` other than 5 pads or cuts
    /// the payload, to send a malformed one.
    public static func priority(streamID: Int32, dependsOn: Int32, weight: UInt8 = 16, exclusive: Bool = false,
                                payloadLength: Int = 5) -> [UInt8] {
        var payload = prioritySpec(dependsOn: dependsOn, weight: weight, exclusive: exclusive)
        if payloadLength < payload.count {
            payload.removeLast(payload.count - payloadLength)
        } else {
            payload += [UInt8](repeating: 0, count: payloadLength - payload.count)
        }
        return header(length: payload.count, type: 0x2, flags: 0, streamID: streamID) + payload
    }

    /// A HEADERS frame with END_HEADERS, optionally with the PRIORITY flag and its dependency; each field is an HPACK
    /// literal without indexing and without Huffman, so it decodes the same whatever the server's dynamic table holds
    /// and leaves that table unchanged.
    public static func headers(streamID: Int32, fields: [(String, String)], endStream: Bool,
                               dependsOn: Int32? = nil, weight: UInt8 = 16) -> [UInt8] {
        var payload: [UInt8] = []
        var flags: UInt8 = 0x4 | (endStream ? 0x1 : 0)
        if let dependsOn {
            flags |= 0x20
            payload += prioritySpec(dependsOn: dependsOn, weight: weight, exclusive: false)
        }
        payload += HPACKBytes.block(fields)
        return header(length: payload.count, type: 0x1, flags: flags, streamID: streamID) + payload
    }

    /// The 9-byte frame header (RFC 9113 4.1).
    public static func header(length: Int, type: UInt8, flags: UInt8, streamID: Int32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
         type, flags] + bigEndian31(streamID)
    }

    /// Stream dependency (E bit + 31 bits) and weight, as PRIORITY and prioritized HEADERS carry them.
    static func prioritySpec(dependsOn: Int32, weight: UInt8, exclusive: Bool) -> [UInt8] {
        var dep = bigEndian31(dependsOn)
        if exclusive { dep[0] |= 0x80 }
        // The wire carries weight - 1 (RFC 9113 6.3: 1...256 sent as 0...255).
        return dep + [weight &- 1]
    }

    static func bigEndian31(_ v: Int32) -> [UInt8] {
        let u = UInt32(bitPattern: v) & 0x7fff_ffff
        return [UInt8(truncatingIfNeeded: u >> 24), UInt8(truncatingIfNeeded: u >> 16), UInt8(truncatingIfNeeded: u >> 8),
                UInt8(truncatingIfNeeded: u)]
    }

    /// RFC 7541 5.1 integer with an N-bit prefix (the H bit, 0 here, sits above it).
    static func integer(_ value: Int, prefixBits: Int) -> [UInt8] {
        let max = (1 << prefixBits) - 1
        if value < max { return [UInt8(value)] }
        var out = [UInt8(max)]
        var v = value - max
        while v >= 128 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }
}

// MARK: frames for hostile clients

extension HTTP2RawFrame {
    /// The client connection preface (RFC 9113 3.4).
    public static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Frame types (RFC 9113 6).
    public enum FrameType {
        public static let data: UInt8 = 0x0
        public static let headers: UInt8 = 0x1
        public static let rstStream: UInt8 = 0x3
        public static let settings: UInt8 = 0x4
        public static let ping: UInt8 = 0x6
        public static let goAway: UInt8 = 0x7
        public static let windowUpdate: UInt8 = 0x8
        public static let continuation: UInt8 = 0x9
    }

    /// Frame flags.
    public enum Flag {
        public static let endStream: UInt8 = 0x1
        public static let ack: UInt8 = 0x1
        public static let endHeaders: UInt8 = 0x4
        public static let padded: UInt8 = 0x8
    }

    /// A SETTINGS frame with the given (identifier, value) entries, or an empty ACK.
    public static func settings(_ entries: [(UInt16, UInt32)] = [], ack: Bool = false) -> [UInt8] {
        var payload: [UInt8] = []
        for (id, value) in entries {
            payload += [UInt8(id >> 8), UInt8(id & 0xff)] + bigEndian32(value)
        }
        return header(length: payload.count, type: FrameType.settings, flags: ack ? Flag.ack : 0, streamID: 0) + payload
    }

    /// A PING frame with 8 opaque bytes.
    public static func ping(_ opaque: UInt64 = 0, ack: Bool = false) -> [UInt8] {
        let payload = (0..<8).map { UInt8(truncatingIfNeeded: opaque >> (56 - 8 * $0)) }
        return header(length: 8, type: FrameType.ping, flags: ack ? Flag.ack : 0, streamID: 0) + payload
    }

    /// A WINDOW_UPDATE frame; `increment` goes on the wire as given (its top bit cleared), 0 included.
    public static func windowUpdate(streamID: Int32, increment: UInt32) -> [UInt8] {
        header(length: 4, type: FrameType.windowUpdate, flags: 0, streamID: streamID) + bigEndian32(increment & 0x7fff_ffff)
    }

    /// A DATA frame (no padding).
    public static func data(streamID: Int32, _ payload: [UInt8] = [], endStream: Bool = false) -> [UInt8] {
        header(length: payload.count, type: FrameType.data, flags: endStream ? Flag.endStream : 0, streamID: streamID) + payload
    }

    /// A HEADERS frame carrying `block` as given (an HPACK fragment), with END_HEADERS only when `endHeaders`.
    public static func headers(streamID: Int32, block: [UInt8], endStream: Bool, endHeaders: Bool) -> [UInt8] {
        let flags = (endStream ? Flag.endStream : 0) | (endHeaders ? Flag.endHeaders : 0)
        return header(length: block.count, type: FrameType.headers, flags: flags, streamID: streamID) + block
    }

    /// A CONTINUATION frame carrying `block` as given.
    public static func continuation(streamID: Int32, block: [UInt8], endHeaders: Bool) -> [UInt8] {
        header(length: block.count, type: FrameType.continuation, flags: endHeaders ? Flag.endHeaders : 0,
               streamID: streamID) + block
    }

    /// An RST_STREAM frame.
    public static func rstStream(streamID: Int32, errorCode: UInt32) -> [UInt8] {
        header(length: 4, type: FrameType.rstStream, flags: 0, streamID: streamID) + bigEndian32(errorCode)
    }

    static func bigEndian32(_ v: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8),
         UInt8(truncatingIfNeeded: v)]
    }
}

/// HPACK representations (RFC 7541 6) encoded by hand, never Huffman-coded, for header blocks no encoder would build.
public enum HPACKBytes {
    /// Literal without indexing, new name (6.2.2): leaves the decoder's dynamic table as it was.
    public static func literal(_ name: String, _ value: String) -> [UInt8] {
        [0x00] + string(Array(name.utf8)) + string(Array(value.utf8))
    }

    /// Literal with incremental indexing, new name (6.2.1): the field enters the decoder's dynamic table at index 62.
    public static func literalIndexed(_ name: String, _ value: [UInt8]) -> [UInt8] {
        [0x40] + string(Array(name.utf8)) + string(value)
    }

    /// Indexed field (6.1): 1...61 the static table, 62 and up the dynamic table, newest first.
    public static func indexed(_ index: Int) -> [UInt8] {
        var bytes = HTTP2RawFrame.integer(index, prefixBits: 7)
        bytes[0] |= 0x80
        return bytes
    }

    /// Each field as a literal without indexing, in order.
    public static func block(_ fields: [(String, String)]) -> [UInt8] {
        fields.flatMap { literal($0.0, $0.1) }
    }

    /// A string literal without Huffman coding (5.2).
    static func string(_ bytes: [UInt8]) -> [UInt8] {
        HTTP2RawFrame.integer(bytes.count, prefixBits: 7) + bytes
    }
}
