import GatewayCore

/// Writes HTTP/1.1 heads and chunk framing as bytes; header bytes are copied from `HTTPHeaders.storage`.
///
/// The caller vouches for the values: the parsers only produce clean ones, and the gateway never puts
/// a control character into a field it adds.
public enum HTTP1Serializer {
    /// `METHOD target HTTP/1.1\r\n` + fields + `\r\n` (upstream requests are always HTTP/1.1).
    ///
    /// With `addingFraming`, the `Content-Length` or `Transfer-Encoding: chunked` field of `head.framing` is written
    /// after the fields (the head needs no copy to carry it).
    public static func writeRequestHead(_ head: HTTPRequestHead, addingFraming: Bool = false, into out: inout [UInt8]) {
        // One allocation up front instead of several as the head grows.
        out.reserveCapacity(out.count + head.method.utf8.count + head.target.utf8.count + head.headers.storage.count
                            + 4 * head.headers.count + 64)
        // The request line in one piece: appended in four, each part checked uniqueness and capacity again, and the
        // strings went through the generic sequence append.
        head.method.utf8.span.withUnsafeBufferPointer { m in
            head.target.utf8.span.withUnsafeBufferPointer { t in
                let version: StaticString = " HTTP/1.1\r\n"
                out.appendUninitialized(m.count + 1 + t.count + version.utf8CodeUnitCount) { d in
                    var w = 0
                    if let mb = m.baseAddress { Bytes.copy(d, mb, count: m.count) }
                    w += m.count
                    d[w] = ASCIIByte.sp
                    w += 1
                    if let tb = t.baseAddress { Bytes.copy(d + w, tb, count: t.count) }
                    w += t.count
                    Bytes.copy(d + w, version.utf8Start, count: version.utf8CodeUnitCount)
                }
            }
        }
        head.headers.serialize(into: &out)
        if addingFraming {
            switch head.framing {
            case .contentLength(let n):
                ASCII.append("Content-Length: ", to: &out)
                ASCII.appendDecimal(Int64(n), to: &out)
                out.append(ASCIIByte.cr)
                out.append(ASCIIByte.lf)
            case .chunked:
                ASCII.append("Transfer-Encoding: chunked\r\n", to: &out)
            case .none, .untilClose:
                break
            }
        }
        out.append(ASCIIByte.cr)
        out.append(ASCIIByte.lf)
    }

    /// `writeRequestHead` for a head stored in a class (a forward plan): passed `inout`, it is read where it lies;
    /// passed by value, the caller copies it first (a retain and a release per field array and string).
    public static func writeRequestHead(stored head: inout HTTPRequestHead, addingFraming: Bool = false,
                                        into out: inout [UInt8]) {
        writeRequestHead(head, addingFraming: addingFraming, into: &out)
    }

    /// `HTTP/1.x DDD reason\r\n` + fields + `\r\n`; the version is the head's (HTTP/1.0 or else HTTP/1.1),
    /// an empty reason becomes the standard phrase when there is one.
    public static func writeResponseHead(_ head: HTTPResponseHead, into out: inout [UInt8]) {
        out.append(contentsOf: (head.version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ").utf8)
        let status = min(max(head.status, 100), 999)
        out.append(UInt8(0x30 + status / 100))
        out.append(UInt8(0x30 + status / 10 % 10))
        out.append(UInt8(0x30 + status % 10))
        out.append(ASCIIByte.sp)
        if head.reason.isEmpty {
            let standard = HTTPStatus.reason(status)
            if standard != "Status" { out.append(contentsOf: standard.utf8) }
        } else {
            out.append(contentsOf: head.reason.utf8)
        }
        out.append(ASCIIByte.cr)
        out.append(ASCIIByte.lf)
        head.headers.serialize(into: &out)
        out.append(ASCIIByte.cr)
        out.append(ASCIIByte.lf)
    }

    /// `<hex size>\r\n` before a chunk's data.
    public static func writeChunkHeader(size: Int, into out: inout [UInt8]) {
        let size = max(size, 0)
        var shift = 60
        while shift > 0 && (size >> shift) & 0xF == 0 { shift -= 4 }
        while shift >= 0 {
            out.append(hexDigits[(size >> shift) & 0xF])
            shift -= 4
        }
        out.append(ASCIIByte.cr)
        out.append(ASCIIByte.lf)
    }

    /// `\r\n` after a chunk's data.
    public static let chunkTerminator: [UInt8] = [0x0D, 0x0A]

    /// `0\r\n` + trailer fields + `\r\n`: the end of a chunked body.
    public static func writeLastChunk(trailers: HTTPHeaders?, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "0"))
        out.append(ASCIIByte.cr)
        out.append(ASCIIByte.lf)
        trailers?.serialize(into: &out)
        out.append(ASCIIByte.cr)
        out.append(ASCIIByte.lf)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
