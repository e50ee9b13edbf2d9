private import CHiredis

/// Redis answered bytes that are not RESP; the connection cannot be trusted further and is dropped.
public struct RESPProtocolError: Error, Equatable, Sendable {
    /// hiredis's reason (its `errstr`): never holds reply data beyond what the server sent in error.
    public let reason: String
}

/// Turns the bytes a Redis connection reads into replies: hiredis's `redisReader`, one per connection, fed as bytes
/// arrive in any split.
final class RESPReader {
    private let reader: UnsafeMutablePointer<redisReader>

    /// nil when hiredis cannot allocate its reader.
    init?() {
        guard let r = redisReaderCreate() else { return nil }
        reader = r
    }

    deinit { redisReaderFree(reader) }

    /// Appends bytes read from the socket.
    func feed(_ bytes: UnsafeRawBufferPointer) throws(RESPProtocolError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) == REDIS_OK else {
            throw failure()
        }
    }

    /// The next complete reply, nil when more bytes are needed.
    func next() throws(RESPProtocolError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw failure() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func failure() -> RESPProtocolError {
        let reason = withUnsafeBytes(of: reader.pointee.errstr) { buf in
            String(decoding: buf.prefix { $0 != 0 }, as: UTF8.self)
        }
        return RESPProtocolError(reason: reason.isEmpty ? "protocol error" : reason)
    }

    private static func convert(_ r: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let reply = r.pointee
        func bytes() -> [UInt8] {
            guard let str = reply.str else { return [] }
            return Array(UnsafeRawBufferPointer(start: str, count: Int(reply.len)))
        }
        switch reply.type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int64(reply.integer))
        case REDIS_REPLY_STRING: return .bulk(bytes())
        case REDIS_REPLY_ARRAY:
            guard let element = reply.element else { return .array([]) }
            var out: [RedisReply] = []
            out.reserveCapacity(Int(reply.elements))
            for i in 0..<Int(reply.elements) {
                if let e = element[i] { out.append(convert(e)) } else { out.append(.null) }
            }
            return .array(out)
        default: return .null
        }
    }
}

/// Builds the RESP bytes of one command with hiredis's formatter; arguments are raw bytes, so keys are sent as they
/// are whatever they contain.
enum RESPCommand {
    /// Appends `args` as one command to `out`; false only when hiredis cannot allocate.
    @discardableResult
    static func append(_ args: [[UInt8]], to out: inout [UInt8]) -> Bool {
        var joined: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int] = []
        offsets.reserveCapacity(args.count)
        lengths.reserveCapacity(args.count)
        for arg in args {
            offsets.append(joined.count)
            lengths.append(arg.count)
            joined.append(contentsOf: arg)
        }
        joined.append(0)  // never empty, so the base pointer exists
        return joined.withUnsafeBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            let raw = UnsafeRawPointer(base)
            var argv: [UnsafePointer<CChar>?] = offsets.map { (raw + $0).assumingMemoryBound(to: CChar.self) }
            var target: UnsafeMutablePointer<CChar>?
            let n = argv.withUnsafeMutableBufferPointer { argvBuffer in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    redisFormatCommandArgv(&target, Int32(args.count), argvBuffer.baseAddress, lengthBuffer.baseAddress)
                }
            }
            guard n > 0, let target else { return false }
            defer { redisFreeCommand(target) }
            out.append(contentsOf: UnsafeRawBufferPointer(start: target, count: Int(n)))
            return true
        }
    }

    /// The bytes of one command.
    static func encode(_ args: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        append(args, to: &out)
        return out
    }
}
