internal import CNghttp2

/// nghttp2's HPACK decoder, for tests that read a server's header blocks off raw frames.
///
/// One per connection: feed every complete header block the server sent, in order, since the blocks share the
/// decoder's dynamic table.
public final class HPACKDecoder {
    private let handle: OpaquePointer

    public init?() {
        var p: OpaquePointer?
        guard nghttp2_hd_inflate_new(&p) == 0, let p else { return nil }
        handle = p
    }

    deinit { nghttp2_hd_inflate_del(handle) }

    /// The fields of one complete header block, or nil when it does not decode.
    public func decode(_ block: [UInt8]) -> [(name: String, value: String)]? {
        var fields: [(name: String, value: String)] = []
        let ok = block.withUnsafeBufferPointer { buf -> Bool in
            var offset = 0
            while true {
                var nv = nghttp2_nv()
                var flags: Int32 = 0
                let rest = buf.count - offset
                let n = nghttp2_hd_inflate_hd2(handle, &nv, &flags, buf.baseAddress.map { $0 + offset }, rest, 1)
                if n < 0 { return false }
                offset += n
                if flags & Int32(NGHTTP2_HD_INFLATE_EMIT.rawValue) != 0 {
                    fields.append((String(decoding: UnsafeBufferPointer(start: nv.name, count: nv.namelen), as: UTF8.self),
                                   String(decoding: UnsafeBufferPointer(start: nv.value, count: nv.valuelen), as: UTF8.self)))
                }
                if flags & Int32(NGHTTP2_HD_INFLATE_FINAL.rawValue) != 0 {
                    nghttp2_hd_inflate_end_headers(handle)
                    return true
                }
                if flags & Int32(NGHTTP2_HD_INFLATE_EMIT.rawValue) == 0 && offset >= buf.count { return false }
            }
        }
        return ok ? fields : nil
    }
}
