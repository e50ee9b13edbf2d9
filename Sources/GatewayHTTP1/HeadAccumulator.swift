#if canImport(Glibc)
import Glibc
#endif
import GatewayCore

/// Collects one head (or trailer section) across reads, rejecting bare CR/LF and oversize input as bytes arrive.
///
/// The bytes of a complete block are copied exactly once into the array that becomes `HTTPHeaders.storage`.
struct HeadAccumulator: Sendable {
    enum Mode: Sendable {
        /// A request head: a few empty lines before the request line are skipped (RFC 9112 2.2).
        case requestHead
        case responseHead
        /// A trailer section: an empty first line ends it at once.
        case trailers
    }

    /// How many CRLFs before a request line are tolerated; more is not a client being sloppy.
    static let maxLeadingEmptyLines = 4
    /// Spare capacity in a block for the fields the gateway adds (request id, forwarding and identity headers),
    /// so adding them writes in place instead of copying the block.
    static let headroom = 256

    let mode: Mode
    let maxTargetBytes: Int
    private var buffer: [UInt8] = []
    /// An emptied array a finished head gave back: the next block is copied into its memory instead of a new one.
    var spare: [UInt8] = []
    private var prevCR = false
    private var lineLength = 0
    private var lines = 0
    private var bytes = 0
    private var leadingEmptyLines = 0
    private var spaces = 0
    private var targetLength = 0

    init(mode: Mode, maxTargetBytes: Int = .max) {
        self.mode = mode
        self.maxTargetBytes = maxTargetBytes
    }

    /// No byte of the next block has been seen (skipped leading empty lines do not count).
    var isEmpty: Bool { bytes == 0 }

    /// Scans `input`; returns the bytes it took and, once the empty line arrives, the whole block.
    ///
    /// `limit` bounds the block size; the block ends with its empty line (CRLF CRLF, or CRLF for empty trailers).
    mutating func feed(_ input: UnsafeRawBufferPointer, limit: Int) throws(HTTP1ParseError) -> (consumed: Int, block: [UInt8]?) {
        if mode == .responseHead, bytes == 0, buffer.isEmpty, let end = Self.wholeCleanHead(input, limit: limit) {
            return (end, takeSpare(holding: UnsafeRawBufferPointer(rebasing: input[..<end])))
        }
        var start = 0
        var i = 0
        let n = input.count
        while i < n {
            let b = input[i]
            i += 1
            bytes += 1
            if bytes > limit { throw .headersTooLarge }
            if prevCR {
                guard b == ASCIIByte.lf else { throw .badRequest("bare CR in head") }
                prevCR = false
                guard lineLength == 0 else {
                    lines += 1
                    lineLength = 0
                    continue
                }
                if lines == 0 {
                    switch mode {
                    case .trailers:
                        break
                    case .requestHead:
                        leadingEmptyLines += 1
                        if leadingEmptyLines > Self.maxLeadingEmptyLines { throw .badRequest("too many empty lines before request line") }
                        buffer.removeAll(keepingCapacity: true)
                        bytes = 0
                        start = i
                        continue
                    case .responseHead:
                        throw .badRequest("empty status line")
                    }
                }
                let block: [UInt8]
                if buffer.isEmpty {
                    block = takeSpare(holding: UnsafeRawBufferPointer(rebasing: input[start..<i]))
                } else {
                    buffer.appendBytes(UnsafeRawBufferPointer(rebasing: input[start..<i]))
                    block = buffer
                    buffer = []
                }
                reset()
                return (i, block)
            }
            if b == ASCIIByte.cr {
                prevCR = true
                continue
            }
            if b == ASCIIByte.lf { throw .badRequest("bare LF in head") }
            lineLength += 1
            if lines > 0 || mode != .requestHead {
                // Field lines: jump to the next CR (memchr) instead of stepping byte by byte; the run before it
                // must hold no LF. The byte count and limit are settled for the whole run at once.
                let rest = n - i
                guard rest > 0, let base = input.baseAddress else { continue }
                let from = base + i
                let run = memchr(from, Int32(ASCIIByte.cr), rest).map { UnsafeRawPointer($0) - UnsafeRawPointer(from) } ?? rest
                if run > 0 {
                    // As byte by byte: a bare LF counts only where it still fits the limit, so the error does not
                    // depend on how the input was split (found by fuzz-chunked: 400 whole, 431 split).
                    let room = max(0, limit - bytes)
                    if memchr(from, Int32(ASCIIByte.lf), min(run, room)) != nil { throw .badRequest("bare LF in head") }
                    if run > room { throw .headersTooLarge }
                    bytes += run
                    lineLength += run
                    i += run
                }
                continue
            }
            do {
                if b == ASCIIByte.sp {
                    spaces += 1
                } else if spaces == 1 {
                    targetLength += 1
                    if targetLength > maxTargetBytes { throw .uriTooLong }
                }
            }
        }
        if start < n {
            if buffer.capacity == 0 { swap(&buffer, &spare) }
            buffer.appendBytes(UnsafeRawBufferPointer(rebasing: input[start..<n]))
        }
        return (n, nil)
    }

    /// A block holding `bytes`, in the spare's memory when there is one, with `headroom` to spare.
    private mutating func takeSpare(holding bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var b: [UInt8] = []
        swap(&b, &spare)
        b.reserveCapacity(bytes.count + Self.headroom)
        b.appendBytes(bytes)
        return b
    }

    /// The length of the head at the start of `input` (through its empty line) when all of it is there, it fits
    /// `limit`, it does not begin with an empty line, and every CR in it is followed by LF and every LF preceded
    /// by CR; nil otherwise, and then the byte-by-byte scan of `feed` takes the input from its start and gives the
    /// error, if any. The usual response (one read holding the whole head) is found in one pass, 8 bytes at a time
    /// between line ends, instead of two `memchr` calls per line.
    static func wholeCleanHead(_ input: UnsafeRawBufferPointer, limit: Int) -> Int? {
        let n = min(input.count, limit)
        guard n >= 4, let base = input.baseAddress, input[0] != ASCIIByte.cr, input[0] != ASCIIByte.lf else { return nil }
        var i = 0
        while i < n {
            if i + 8 <= n {
                // The lowest byte either test flags is a real CR or LF, so the scan jumps right to it.
                let x = (base + i).loadUnaligned(as: UInt64.self)
                let found = ByteWords.matching(x, ASCIIByte.cr) | ByteWords.matching(x, ASCIIByte.lf)
                if found == 0 {
                    i += 8
                    continue
                }
                i += found.trailingZeroBitCount >> 3
            }
            let b = input[i]
            if b == ASCIIByte.lf { return nil }  // not preceded by CR: a CR skips its LF below
            if b == ASCIIByte.cr {
                guard i + 1 < n, input[i + 1] == ASCIIByte.lf else { return nil }
                // CRLF CRLF: the empty line that ends the head.
                if i + 3 < n, input[i + 2] == ASCIIByte.cr {
                    return input[i + 3] == ASCIIByte.lf ? i + 4 : nil
                }
                i += 2
                continue
            }
            i += 1
        }
        return nil
    }

    private mutating func reset() {
        prevCR = false
        lineLength = 0
        lines = 0
        bytes = 0
        leadingEmptyLines = 0
        spaces = 0
        targetLength = 0
    }
}
