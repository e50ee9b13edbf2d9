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
        for (name, value) in fields {
            payload.append(0x00)
            payload += integer(name.utf8.count, prefixBits: 7)
            payload += Array(name.utf8)
            payload += integer(value.utf8.count, prefixBits: 7)
            payload += Array(value.utf8)
        }
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
