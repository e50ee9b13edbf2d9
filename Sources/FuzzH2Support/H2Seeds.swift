/// Client byte streams for the seed corpus (Tests/Fuzz/h2-server/corpus): real client prefaces, header blocks from
/// nghttp2's HPACK encoder (dynamic table included), every frame type, valid and invalid pseudo-headers.
public enum H2Seeds {
    static let preface = H2InputModel.preface

    /// A frame: 9-byte header, then the payload.
    public static func frame(_ type: UInt8, flags: UInt8 = 0, stream: Int32, _ payload: [UInt8]) -> [UInt8] {
        let n = payload.count
        let s = UInt32(bitPattern: stream)
        return [UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n), type, flags,
                UInt8(truncatingIfNeeded: s >> 24), UInt8(truncatingIfNeeded: s >> 16), UInt8(truncatingIfNeeded: s >> 8),
                UInt8(truncatingIfNeeded: s)] + payload
    }

    static func u32(_ v: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }

    /// A client's first flight: preface and SETTINGS (as curl sends them), then the connection WINDOW_UPDATE.
    static let start: [UInt8] = preface
        + frame(0x4, stream: 0, [0, 3, 0, 0, 0, 100, 0, 4, 0, 0xa0, 0, 0, 0, 2, 0, 0, 0, 0])
        + frame(0x8, stream: 0, u32(0x3e_7f_00_01))
    static let settingsAck = frame(0x4, flags: 0x1, stream: 0, [])

    static func get(_ path: String = "/orders?page=2", authority: String = "shop.example") -> [H2Field] {
        [H2Field(":method", "GET"), H2Field(":scheme", "https"), H2Field(":authority", authority), H2Field(":path", path),
         H2Field("user-agent", "curl/8.5.0"), H2Field("accept", "*/*"), H2Field("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig")]
    }

    static func post(_ contentLength: Int?) -> [H2Field] {
        var f = [H2Field(":method", "POST"), H2Field(":scheme", "https"), H2Field(":authority", "shop.example"),
                 H2Field(":path", "/api/upload"), H2Field("content-type", "application/json")]
        if let contentLength { f.append(H2Field("content-length", String(contentLength))) }
        return f
    }

    /// HEADERS (END_HEADERS, plus END_STREAM when `end`) with a block from `enc`.
    static func headers(_ enc: HPACKEncoder, stream: Int32, _ fields: [H2Field], end: Bool) -> [UInt8] {
        frame(0x1, flags: 0x4 | (end ? 0x1 : 0), stream: stream, enc.encode(fields))
    }

    static func data(_ stream: Int32, _ s: String, end: Bool) -> [UInt8] {
        frame(0x0, flags: end ? 0x1 : 0, stream: stream, Array(s.utf8))
    }

    static func named(_ name: String, _ build: (HPACKEncoder) -> [UInt8]) -> (String, [UInt8]) {
        (name, build(HPACKEncoder()))
    }

    /// The seeds, by file name.
    public static var all: [(name: String, bytes: [UInt8])] {
        var seeds: [(String, [UInt8])] = [
            ("preface-only", preface),
            ("preface-settings", start + settingsAck),
            named("get") { start + settingsAck + headers($0, stream: 1, get(), end: true) },
            named("get-three-streams-dynamic-table") { e in
                start + settingsAck + headers(e, stream: 1, get(), end: true) + headers(e, stream: 3, get("/b"), end: true)
                    + headers(e, stream: 5, get("/c"), end: true)
            },
            named("post-content-length") { start + settingsAck + headers($0, stream: 1, post(11), end: false) + data(1, "{\"a\":\"bc\"}\n", end: true) },
            named("post-chunked-data") { e in
                start + settingsAck + headers(e, stream: 1, post(nil), end: false) + data(1, "part one,", end: false)
                    + data(1, "part two", end: false) + data(1, "", end: true)
            },
            named("post-content-length-short") { start + settingsAck + headers($0, stream: 1, post(10), end: false) + data(1, "short", end: true) },
            named("post-content-length-long") { start + settingsAck + headers($0, stream: 1, post(2), end: false) + data(1, "too long", end: true) },
            named("post-trailers") { e in
                start + settingsAck + headers(e, stream: 1, post(nil), end: false) + data(1, "body", end: false)
                    + headers(e, stream: 1, [H2Field("x-checksum", "abc")], end: true)
            },
            named("trailers-with-pseudo") { e in
                start + settingsAck + headers(e, stream: 1, post(nil), end: false) + data(1, "body", end: false)
                    + headers(e, stream: 1, [H2Field(":path", "/x")], end: true)
            },
            named("continuation") { e in
                let block = e.encode(get() + [H2Field("x-long", String(repeating: "v", count: 60))])
                let cut = block.count / 2
                return start + settingsAck + frame(0x1, flags: 0x1, stream: 1, Array(block[..<cut]))
                    + frame(0x9, flags: 0x4, stream: 1, Array(block[cut...]))
            },
            named("continuation-interrupted") { e in
                let block = e.encode(get())
                return start + frame(0x1, flags: 0x1, stream: 1, Array(block[..<4])) + frame(0x6, stream: 0, [UInt8](repeating: 1, count: 8))
                    + frame(0x9, flags: 0x4, stream: 1, Array(block[4...]))
            },
            named("padded-priority-headers") { e in
                let block = e.encode(get())
                return start + frame(0x1, flags: 0x4 | 0x1 | 0x8 | 0x20, stream: 1, [3] + u32(0) + [15] + block + [0, 0, 0])
            },
            named("padded-data") { e in
                start + headers(e, stream: 1, post(3), end: false) + frame(0x0, flags: 0x1 | 0x8, stream: 1, [2] + Array("abc".utf8) + [0, 0])
            },
            named("priority-frames") { e in
                start + frame(0x2, stream: 3, u32(0) + [200]) + frame(0x2, stream: 5, u32(5) + [1])
                    + headers(e, stream: 1, get(), end: true) + frame(0x2, stream: 0, u32(1) + [1])
            },
            named("rst-stream-mid-body") { e in
                start + headers(e, stream: 1, post(100), end: false) + data(1, "first", end: false)
                    + frame(0x3, stream: 1, u32(8)) + data(1, "after reset", end: false)
            },
            named("window-update-streams") { e in
                start + headers(e, stream: 1, get(), end: true) + frame(0x8, stream: 1, u32(1000))
                    + frame(0x8, stream: 1, u32(0x7fff_ffff)) + frame(0x8, stream: 0, u32(0))
            },
            ("ping-and-ack", start + frame(0x6, stream: 0, Array("12345678".utf8)) + frame(0x6, flags: 0x1, stream: 0, Array("abcdefgh".utf8))),
            named("goaway-then-request") { e in
                start + frame(0x7, stream: 0, u32(0) + u32(0)) + headers(e, stream: 1, get(), end: true)
            },
            named("goaway-error") { _ in start + frame(0x7, stream: 0, u32(7) + u32(1) + Array("debug".utf8)) },
            named("settings-flood-small") { _ in
                start + (0..<20).flatMap { _ in frame(0x4, stream: 0, [0, 4, 0, 0, 0x10, 0]) }
            },
            named("many-streams-over-limit") { e in
                start + settingsAck + (0..<12).flatMap { i in headers(e, stream: Int32(1 + 2 * i), get("/s\(i)"), end: true) }
            },
            named("many-open-bodies") { e in
                start + settingsAck + (0..<10).flatMap { i in headers(e, stream: Int32(1 + 2 * i), post(nil), end: false) }
                    + (0..<10).flatMap { i in data(Int32(1 + 2 * i), "x", end: true) }
            },
            named("oversized-head-431") { e in
                start + settingsAck + headers(e, stream: 1, get() + [H2Field("x-big", String(repeating: "b", count: 2100))], end: true)
                    + headers(e, stream: 3, get(), end: true)
            },
            named("extended-connect-websocket") { e in
                start + settingsAck + headers(e, stream: 1, [H2Field(":method", "CONNECT"), H2Field(":protocol", "websocket"),
                    H2Field(":scheme", "https"), H2Field(":path", "/chat"), H2Field(":authority", "shop.example"),
                    H2Field("sec-websocket-version", "13")], end: false) + data(1, "frame", end: false)
            },
            named("connect-plain") { e in
                start + headers(e, stream: 1, [H2Field(":method", "CONNECT"), H2Field(":authority", "shop.example:443")], end: false)
            },
            named("options-asterisk") { e in
                start + headers(e, stream: 1, [H2Field(":method", "OPTIONS"), H2Field(":scheme", "https"), H2Field(":path", "*"),
                    H2Field(":authority", "shop.example")], end: true)
            },
            named("data-on-idle-stream") { _ in start + data(1, "no head", end: true) },
            named("headers-even-stream") { e in start + headers(e, stream: 2, get(), end: true) },
            named("headers-stream-zero") { e in start + headers(e, stream: 0, get(), end: true) },
            named("unknown-frame-type") { e in start + frame(0xfa, stream: 1, [1, 2, 3]) + headers(e, stream: 1, get(), end: true) },
            // A header announcing 16,385 bytes, one over the SETTINGS_MAX_FRAME_SIZE advertised: refused before the payload.
            ("oversized-frame", start + [0x00, 0x40, 0x01, 0x0, 0x0, 0, 0, 0, 1, 0x61]),
            ("bad-preface", Array("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n".utf8) + frame(0x4, stream: 0, [])),
            named("http1-request") { _ in Array("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n".utf8) },
        ]
        // Invalid heads: one per rule, each followed by a valid request on the next stream.
        let invalid: [(String, [H2Field])] = [
            ("uppercase-name", get() + [H2Field("X-Upper", "1")]),
            ("connection-header", get() + [H2Field("connection", "keep-alive")]),
            ("transfer-encoding", post(nil) + [H2Field("transfer-encoding", "chunked")]),
            ("te-gzip", get() + [H2Field("te", "gzip")]),
            ("te-trailers", get() + [H2Field("te", "trailers")]),
            ("missing-method", Array(get().dropFirst())),
            ("missing-path", get().filter { $0.name != Array(":path".utf8) }),
            ("missing-scheme", get().filter { $0.name != Array(":scheme".utf8) }),
            ("missing-authority-with-host", get().filter { $0.name != Array(":authority".utf8) } + [H2Field("host", "shop.example")]),
            ("duplicate-path", get() + [H2Field(":path", "/other")]),
            ("pseudo-after-regular", [H2Field(":method", "GET"), H2Field("x-a", "1"), H2Field(":scheme", "https"), H2Field(":path", "/")]),
            ("unknown-pseudo", get() + [H2Field(":status", "200")]),
            ("crlf-in-value", get() + [H2Field("x-evil", "a\r\nx-injected: 1")]),
            ("space-in-path", [H2Field(":method", "GET"), H2Field(":scheme", "https"), H2Field(":path", "/a b HTTP/1.1"), H2Field(":authority", "s")]),
            ("empty-path", [H2Field(":method", "GET"), H2Field(":scheme", "https"), H2Field(":path", ""), H2Field(":authority", "s")]),
            ("path-not-slash", [H2Field(":method", "GET"), H2Field(":scheme", "https"), H2Field(":path", "http://x/"), H2Field(":authority", "s")]),
            ("value-trailing-space", get() + [H2Field("x-a", "b ")]),
            ("duplicate-content-length", post(3) + [H2Field("content-length", "4")]),
            ("content-length-not-digits", post(nil) + [H2Field("content-length", "+3")]),
            ("duplicate-host", get() + [H2Field("host", "a"), H2Field("host", "b")]),
            ("connect-with-path", [H2Field(":method", "CONNECT"), H2Field(":authority", "s:443"), H2Field(":path", "/")]),
            ("protocol-without-connect", get() + [H2Field(":protocol", "websocket")]),
        ]
        for (name, fields) in invalid {
            seeds.append(named("invalid-" + name) { e in
                start + settingsAck + headers(e, stream: 1, fields, end: true) + headers(e, stream: 3, get(), end: true)
            })
        }
        return seeds
    }
}
