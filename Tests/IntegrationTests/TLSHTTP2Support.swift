import Foundation
import GatewayAuth
import GatewayConfig
import GatewayCore
@testable import GatewayHTTP2
import HTTP2TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Self-signed certificates made with the openssl CLI in a fresh temporary directory.
struct TLSFixture {
    let dir: String
    /// Leaf for `localhost` and `127.0.0.1`; being self-signed, it is also its own CA.
    var cert: String { dir + "/server.pem" }
    var key: String { dir + "/server.key" }
    /// An unrelated self-signed certificate: the wrong CA for `cert`.
    var otherCert: String { dir + "/other.pem" }

    init() throws {
        dir = NSTemporaryDirectory() + "sgw-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, cn) in [("server", "localhost"), ("other", "other.test")] {
            let r = try runProcess(tool("openssl"), [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).pem", "-days", "2", "-subj", "/CN=\(cn)",
                "-addext", "subjectAltName=DNS:\(cn),IP:127.0.0.1",
            ])
            if r.status != 0 { throw IOError(errno: 5, function: "openssl req: \(r.stderr)") }
        }
    }
}

/// Tokens for the test stack's app, each with its own `jti`.
enum H2Tokens {
    static func good(shop: String = "shop.myshopify.com", issuedAt: Int64 = Int64(Date().timeIntervalSince1970)) -> String {
        TokenMinter.mint(shop: shop, clientId: TestStack.clientId, issuedAt: issuedAt, jti: UUID().uuidString,
                         subject: "gid://shopify/Customer/7", secret: Array(TestStack.secret.utf8))
    }

    static func expired() -> String { good(issuedAt: Int64(Date().timeIntervalSince1970) - 3600) }

    static func badSignature() -> String {
        TokenMinter.mint(shop: "shop.myshopify.com", clientId: TestStack.clientId, issuedAt: Int64(Date().timeIntervalSince1970),
                         jti: UUID().uuidString, secret: Array("not-the-secret".utf8))
    }
}

/// The request fields of an RFC 8441 extended CONNECT that opens a WebSocket tunnel to `path`.
func webSocketConnectFields(path: String, token: String) -> [(String, String)] {
    [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"), (":path", path),
     (":authority", "127.0.0.1"), ("authorization", "Bearer \(token)"), ("sec-websocket-version", "13")]
}

/// A TestStack with a second, TLS listener (index 1) on the fixture's certificate.
func makeTLSStack(_ fixture: TLSFixture, upstreamServers: [String]? = nil,
                  configure: (inout GatewayConfig) -> Void = { _ in }) throws -> TestStack {
    try TestStack(upstreamServers: upstreamServers) { c in
        c.listeners.append(ListenerConfig(address: "127.0.0.1:0", tls: ListenerTLSConfig(certificates: [
            CertificateConfig(certificateChain: fixture.cert, privateKey: fixture.key),
        ])))
        configure(&c)
    }
}

extension TestStack {
    var tlsPort: Int { gateway.listenerAddresses[1].port }
}

/// Drives the in-tree nghttp2 test client over a blocking h2c socket.
final class H2Driver {
    let client: HTTP2TestClient
    let raw: RawClient
    private(set) var peerClosed = false

    init(port: Int, peerMaxConcurrentStreams: UInt32? = nil) throws {
        raw = try RawClient(port: port)
        client = try HTTP2TestClient(peerMaxConcurrentStreams: peerMaxConcurrentStreams)
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(raw.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Exchanges frames until `done` holds, the peer closes, or ~15 s pass; returns `done()`.
    @discardableResult
    func pump(until done: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(15)
        var buf = [UInt8](repeating: 0, count: 65536)
        while !done() && !peerClosed && Date() < deadline {
            let out = client.produce()
            if !out.isEmpty { raw.send(out) }
            let n = buf.withUnsafeMutableBytes { recv(raw.fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { peerClosed = true; break }
            if n > 0 {
                do { try client.receive(Array(buf[0..<n])) } catch { peerClosed = true; break }
            }
        }
        let out = client.produce()
        if !out.isEmpty { raw.send(out) }
        return done()
    }
}

/// A hand-written HTTP/1.1 upstream on 127.0.0.1:0: `/raw/big` serves `bigBody`, `/raw/ws` upgrades to a
/// WebSocket-style tunnel that echoes every byte. One thread per connection.
final class StreamingUpstream: @unchecked Sendable {
    /// Built in `init`, before any request can come: built lazily by the first `/raw/big` on the serving thread
    /// (5 Mi closure calls, 30+ s in a ThreadSanitizer debug build on a loaded box), it held the response head
    /// past the gateway's response timeout, and the download test got a 504.
    static let bigBody: [UInt8] = [UInt8](unsafeUninitializedCapacity: 5 * 1024 * 1024) { buffer, count in
        for i in 0..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: i &* 31 &+ (i >> 9)) }
        count = buffer.count
    }
    let fd: Int32
    let port: Int
    /// The request heads the upstream received, as text.
    let heads = Locked<[String]>([])

    init() throws {
        _ = Self.bigBody.count
        let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let r = withUnsafePointer(to: &addr) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, size) } }
        if r != 0 || listen(sock, 64) != 0 { throw IOError(errno: errno, function: "bind") }
        var bound = sockaddr_in()
        var len = size
        _ = withUnsafeMutablePointer(to: &bound) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sock, $0, &len) } }
        fd = sock
        port = Int(UInt16(bigEndian: bound.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let c = accept(sock, nil, nil)
                if c < 0 { return }
                Thread.detachNewThread { self.serve(c) }
            }
        }
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    private func sendAll(_ c: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    private func serve(_ c: Int32) {
        defer { close(c) }
        var pending: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            guard let end = HTTPTestResponse.find(pending, [13, 10, 13, 10]) else {
                let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                pending.append(contentsOf: buf[0..<n])
                continue
            }
            let head = String(decoding: pending[0..<end], as: UTF8.self)
            pending.removeFirst(end + 4)
            heads.withLock { $0.append(head) }
            if head.hasPrefix("GET /raw/ws") {
                _ = sendAll(c, Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: test\r\n\r\n".utf8))
                if !pending.isEmpty && !sendAll(c, pending) { return }
                while true {
                    let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
                    if n <= 0 || !sendAll(c, Array(buf[0..<n])) { return }
                }
            }
            let body = head.hasPrefix("GET /raw/big") ? StreamingUpstream.bigBody : Array("ok".utf8)
            guard sendAll(c, Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n".utf8)), sendAll(c, body) else { return }
        }
    }
}
