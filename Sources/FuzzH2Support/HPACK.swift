internal import CNghttp2

/// One header field as bytes, in the order it was decoded or is to be encoded.
public struct H2Field: Equatable, Sendable {
    public var name: [UInt8]
    public var value: [UInt8]

    public init(_ name: [UInt8], _ value: [UInt8]) {
        self.name = name
        self.value = value
    }

    public init(_ name: String, _ value: String) {
        self.init(Array(name.utf8), Array(value.utf8))
    }

    var nameString: String { String(decoding: name, as: UTF8.self) }
}

/// An HPACK decoder (nghttp2's stand-alone inflater): the fuzz checks decode header blocks themselves, independently
/// of the session under test, to know what each stream really carried.
final class HPACKDecoder {
    private let handle: OpaquePointer?

    init() {
        var p: OpaquePointer?
        handle = nghttp2_hd_inflate_new(&p) == 0 ? p : nil
    }

    deinit { if let handle { nghttp2_hd_inflate_del(handle) } }

    /// The fields of one complete header block, or nil when it does not decode (the decoder is then unusable, as a
    /// connection with a COMPRESSION_ERROR is).
    func decode(_ block: [UInt8]) -> [H2Field]? {
        guard let handle else { return nil }
        var fields: [H2Field] = []
        let ok = block.withUnsafeBufferPointer { buf -> Bool in
            // A non-null pointer even for an empty block.
            var p = buf.baseAddress ?? UnsafePointer(bitPattern: 1)
            var left = buf.count
            while true {
                var nv = nghttp2_nv()
                var flags: Int32 = 0
                let n = nghttp2_hd_inflate_hd2(handle, &nv, &flags, p, left, 1)
                if n < 0 { return false }
                p = p.map { $0 + n }
                left -= n
                if flags & Int32(NGHTTP2_HD_INFLATE_EMIT.rawValue) != 0 {
                    fields.append(H2Field(Array(UnsafeBufferPointer(start: nv.name, count: nv.namelen)),
                                          Array(UnsafeBufferPointer(start: nv.value, count: nv.valuelen))))
                }
                if flags & Int32(NGHTTP2_HD_INFLATE_FINAL.rawValue) != 0 {
                    nghttp2_hd_inflate_end_headers(handle)
                    return true
                }
                if flags & Int32(NGHTTP2_HD_INFLATE_EMIT.rawValue) == 0 && left == 0 { return false }
            }
        }
        return ok ? fields : nil
    }
}

/// An HPACK encoder (nghttp2's stand-alone deflater), for seeds: real clients' header blocks, dynamic table included.
public final class HPACKEncoder {
    private let handle: OpaquePointer?

    public init() {
        var p: OpaquePointer?
        handle = nghttp2_hd_deflate_new(&p, 4096) == 0 ? p : nil
    }

    deinit { if let handle { nghttp2_hd_deflate_del(handle) } }

    /// The block for `fields`, names and values exactly as given (nothing lower-cased); empty if encoding fails.
    public func encode(_ fields: [H2Field]) -> [UInt8] {
        guard let handle else { return [] }
        // Every name and value in one array, so one pointer scope covers them all.
        var bytes: [UInt8] = []
        var spans: [(Int, Int, Int, Int)] = []
        for f in fields {
            let n = bytes.count
            bytes += f.name
            let v = bytes.count
            bytes += f.value
            spans.append((n, f.name.count, v, f.value.count))
        }
        bytes.append(0)
        return bytes.withUnsafeMutableBufferPointer { buf -> [UInt8] in
            guard let base = buf.baseAddress else { return [] }
            let nva = spans.map { s in
                nghttp2_nv(name: base + s.0, value: base + s.2, namelen: s.1, valuelen: s.3,
                           flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            let bound = nghttp2_hd_deflate_bound(handle, nva, nva.count)
            var out = [UInt8](repeating: 0, count: bound)
            let n = out.withUnsafeMutableBufferPointer { o in
                nghttp2_hd_deflate_hd(handle, o.baseAddress, o.count, nva, nva.count)
            }
            return n < 0 ? [] : Array(out[0..<n])
        }
    }
}
