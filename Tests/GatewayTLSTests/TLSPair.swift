@testable import GatewayTLS

/// A client and a server connection wired back to back in memory, as the event loop would wire a socket.
struct TLSPair {
    let client: TLSConnection
    let server: TLSConnection

    init(server serverContext: TLSContext, client clientContext: TLSContext, serverName: String?) throws {
        server = try TLSConnection(context: serverContext, serverName: nil)
        client = try TLSConnection(context: clientContext, serverName: serverName)
    }

    /// Moves pending ciphertext each way; returns how many bytes moved.
    @discardableResult
    func transfer() -> Int {
        move(from: client, to: server) + move(from: server, to: client)
    }

    private func move(from sender: TLSConnection, to receiver: TLSConnection) -> Int {
        var bytes: [UInt8] = []
        sender.drainCiphertext(into: &bytes)
        bytes.withUnsafeBytes { receiver.feed(ciphertext: $0) }
        return bytes.count
    }

    /// Runs both handshakes until nothing more moves; returns each side's last result.
    func handshake() -> (client: TLSResult, server: TLSResult) {
        var clientResult = TLSResult.wantRead
        var serverResult = TLSResult.wantRead
        for _ in 0..<50 {
            if !clientResult.isFinal { clientResult = client.handshake() }
            if !serverResult.isFinal { serverResult = server.handshake() }
            if transfer() == 0 { break }
        }
        return (clientResult, serverResult)
    }

    /// Writes all of `bytes` from `sender` (in as many partial writes as it takes), delivering as it goes.
    /// Returns what the receiver decrypted and the largest single write accepted.
    func send(_ bytes: [UInt8], from sender: TLSConnection, to receiver: TLSConnection) -> (received: [UInt8], largestWrite: Int, failure: TLSResult?) {
        var offset = 0
        var largest = 0
        var received: [UInt8] = []
        while offset < bytes.count {
            let (result, written) = bytes.withUnsafeBytes { sender.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            guard result == .complete else { return (received, largest, result) }
            offset += written
            largest = max(largest, written)
            transfer()
            received += Self.readAvailable(receiver).bytes
        }
        return (received, largest, nil)
    }

    /// Reads plaintext until the connection wants more ciphertext; returns it and the stopping result.
    static func readAvailable(_ connection: TLSConnection) -> (bytes: [UInt8], result: TLSResult) {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let (result, count) = buffer.withUnsafeMutableBytes { connection.read(into: $0) }
            out += buffer[0..<count]
            if result != .complete || count == 0 { return (out, result) }
        }
    }
}

extension TLSResult {
    /// Done for good: the handshake loop stops calling this side.
    var isFinal: Bool {
        switch self {
        case .complete, .failed, .closed: return true
        case .wantRead, .wantWrite: return false
        }
    }

    /// The error of a `.failed` result.
    var error: TLSError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}
