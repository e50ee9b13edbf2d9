internal import CNghttp2
import GatewayCore

/// A header block packed into one byte array so it can be handed to nghttp2 as an `nghttp2_nv` array (nghttp2 copies it).
struct NGHeaderBlock {
    private var bytes: [UInt8] = []
    /// `external`: the value's range is in the fields given to `withNV(values:)`, not in `bytes`.
    private var spans: [(name: Range<Int>, value: Range<Int>, flags: UInt8, external: Bool)] = []

    init() {}

    /// Empties the block and keeps its storage, so a session can reuse one block for every response.
    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
    }

    /// Appends a field whose value is a non-negative decimal number (`:status`, `content-length`), name and digits
    /// written in one growth of the block (no String made).
    mutating func append(_ name: StaticString, decimal value: Int) {
        let v = max(value, 0)
        var digits = 1
        var rest = v / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        let ns = bytes.count
        let n = name.withUTF8Buffer { nameBytes in
            let n = nameBytes.count
            bytes.appendUninitialized(n + digits) { d in
                if let src = nameBytes.baseAddress { Bytes.copy(d, src, count: n) }
                var x = v
                var i = n + digits
                repeat {
                    i -= 1
                    d[i] = UInt8(truncatingIfNeeded: 0x30 &+ x % 10)
                    x /= 10
                } while x > 0
            }
            return n
        }
        spans.append((ns..<ns + n, ns + n..<ns + n + digits, UInt8(NGHTTP2_NV_FLAG_NONE.rawValue), false))
    }

    /// Appends response or trailer fields with lower-cased names, minus connection-specific and pseudo fields.
    ///
    /// With `valuesInPlace`, only names are copied: values stay in `headers.storage`, which must then be passed to
    /// `withNV(values:)` (nghttp2 copies them during that call).
    mutating func appendForwardable(_ headers: HTTPHeaders, valuesInPlace: Bool = false) {
        headers.storage.withUnsafeBufferPointer { src in
            for i in 0..<headers.count {
                let n = headers.nameRange(i)
                let name = UnsafeBufferPointer(rebasing: src[n])
                if NGHeaderBlock.isConnectionSpecific(name) { continue }
                let ns = bytes.count
                let ne = ns + name.count
                // Lower-cased while copied: appending first went through memmove for a few bytes, and copying
                // through a lazy map went element by element.
                bytes.appendUninitialized(name.count) { b in
                    for j in 0..<name.count { b[j] = ASCII.lower(name[j]) }
                }
                let value: Range<Int>
                if valuesInPlace {
                    value = headers.valueRange(i)
                } else {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: src[headers.valueRange(i)]))
                    value = ne..<bytes.count
                }
                // A request id is new on every response: in the HPACK table it would only push out fields that repeat.
                let flags = name.count == 12 && ASCII.equalsIgnoringCase(name, "x-request-id")
                    ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE
                spans.append((ns..<ne, value, UInt8(flags.rawValue), valuesInPlace))
            }
        }
    }

    /// RFC 9113 8.2.2 fields an HTTP/2 message must not carry; `:`-names would forge pseudo-headers.
    static func isConnectionSpecific(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = name.first else { return false }
        if first == UInt8(ascii: ":") { return true }
        // Most names are none of these: the length and first letter settle it without a comparison.
        switch (name.count, ASCII.lower(first)) {
        case (2, UInt8(ascii: "t")): return ASCII.equalsIgnoringCase(name, "te")
        case (7, UInt8(ascii: "u")): return ASCII.equalsIgnoringCase(name, "upgrade")
        case (10, UInt8(ascii: "c")): return ASCII.equalsIgnoringCase(name, "connection")
        case (10, UInt8(ascii: "k")): return ASCII.equalsIgnoringCase(name, "keep-alive")
        case (16, UInt8(ascii: "p")): return ASCII.equalsIgnoringCase(name, "proxy-connection")
        case (17, UInt8(ascii: "t")): return ASCII.equalsIgnoringCase(name, "transfer-encoding")
        default: return false
        }
    }

    var count: Int { spans.count }

    /// Hands the block to `body` as an `nghttp2_nv` array; nghttp2 copies names and values before returning.
    /// `values` is the storage of the fields appended with `valuesInPlace` (empty when there are none).
    func withNV<R>(values: [UInt8] = [], _ body: (UnsafePointer<nghttp2_nv>?, Int) -> R) -> R {
        bytes.withUnsafeBufferPointer { buf in
            values.withUnsafeBufferPointer { ext in
                // Without NO_COPY flags nghttp2 only reads through these pointers.
                let base = UnsafeMutablePointer(mutating: buf.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                let extBase = UnsafeMutablePointer(mutating: ext.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                return withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: max(spans.count, 1)) { nva in
                    for (i, s) in spans.enumerated() {
                        // An in-place value outside `values` (a caller mistake) goes out empty rather than out of bounds.
                        let inRange = !s.external || s.value.upperBound <= ext.count
                        (nva.baseAddress! + i).initialize(to: nghttp2_nv(
                            name: base + s.name.lowerBound,
                            value: (s.external ? extBase : base) + (inRange ? s.value.lowerBound : 0),
                            namelen: s.name.count, valuelen: inRange ? s.value.count : 0, flags: s.flags))
                    }
                    return body(nva.baseAddress, spans.count)
                }
            }
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
