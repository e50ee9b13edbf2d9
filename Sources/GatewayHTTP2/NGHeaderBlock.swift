internal import CNghttp2
import GatewayCore

/// A header block packed into one byte array so it can be handed to nghttp2 as an `nghttp2_nv` array (nghttp2 copies it).
struct NGHeaderBlock {
    private var bytes: [UInt8] = []
    private var spans: [(name: Range<Int>, value: Range<Int>)] = []

    init() {}

    mutating func append<N: Collection, V: Collection>(name: N, value: V) where N.Element == UInt8, V.Element == UInt8 {
        let ns = bytes.count
        bytes.append(contentsOf: name)
        let ne = bytes.count
        bytes.append(contentsOf: value)
        spans.append((ns..<ne, ne..<bytes.count))
    }

    mutating func append(_ name: String, _ value: String) { append(name: name.utf8, value: value.utf8) }

    /// Appends response or trailer fields with lower-cased names, minus connection-specific and pseudo fields.
    mutating func appendForwardable(_ headers: HTTPHeaders) {
        for i in 0..<headers.count where !NGHeaderBlock.isConnectionSpecific(headers, i) {
            append(name: headers.nameBytes(i).lazy.map(ASCII.lower), value: headers.valueBytes(i))
        }
    }

    /// RFC 9113 8.2.2 fields an HTTP/2 message must not carry; `:`-names would forge pseudo-headers.
    static func isConnectionSpecific(_ h: HTTPHeaders, _ i: Int) -> Bool {
        if h.nameBytes(i).first == UInt8(ascii: ":") { return true }
        return h.nameEquals(i, "connection") || h.nameEquals(i, "keep-alive") || h.nameEquals(i, "proxy-connection")
            || h.nameEquals(i, "transfer-encoding") || h.nameEquals(i, "upgrade") || h.nameEquals(i, "te")
    }

    var count: Int { spans.count }

    func withNV<R>(_ body: (UnsafePointer<nghttp2_nv>?, Int) -> R) -> R {
        var storage = bytes
        return storage.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress ?? UnsafeMutablePointer<UInt8>.allocate(capacity: 0)
            var nva: [nghttp2_nv] = []
            nva.reserveCapacity(spans.count)
            for s in spans {
                nva.append(nghttp2_nv(name: base + s.name.lowerBound, value: base + s.value.lowerBound,
                                      namelen: s.name.count, valuelen: s.value.count,
                                      flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
            }
            return nva.withUnsafeBufferPointer { body($0.baseAddress, $0.count) }
        }
    }
}

/// Owns one `nghttp2_session_callbacks`; nghttp2 copies it into each session, so it may die after session creation.
final class NGSessionCallbacks {
    let handle: OpaquePointer

    init() throws(HTTP2Error) {
        var p: OpaquePointer?
        let rv = nghttp2_session_callbacks_new(&p)
        guard rv == 0, let p else { throw HTTP2Error(code: rv, message: "nghttp2_session_callbacks_new failed") }
        handle = p
    }

    deinit { nghttp2_session_callbacks_del(handle) }
}

/// Owns one `nghttp2_option`; copied at session creation like the callbacks.
final class NGOption {
    let handle: OpaquePointer

    init() throws(HTTP2Error) {
        var p: OpaquePointer?
        let rv = nghttp2_option_new(&p)
        guard rv == 0, let p else { throw HTTP2Error(code: rv, message: "nghttp2_option_new failed") }
        handle = p
    }

    deinit { nghttp2_option_del(handle) }
}

extension HTTP2Error {
    /// Wraps an nghttp2 return code with the library's text for it.
    init(nghttp2 code: Int32, _ function: String) {
        let text = nghttp2_strerror(code).map { String(cString: $0) } ?? "unknown"
        self.init(code: code, message: "\(function): \(text)")
    }
}
