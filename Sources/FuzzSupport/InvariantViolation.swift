import FuzzH2Support

/// An invariant a fuzz target checks did not hold: what it was, about which input.
public struct InvariantViolation: Error, CustomStringConvertible {
    public let target: String
    public let message: String

    public init(_ target: String, _ message: String) {
        self.target = target
        self.message = message
    }

    public var description: String { "fuzz-\(target): invariant violated: \(message)" }
}

/// Every fuzz target's check by name (`fuzz-<name>`, `Tests/Fuzz/<name>/`): FuzzCorpusTests replays each corpus
/// through the check of the same name, and a corpus directory without a check here fails that test.
public enum FuzzChecks {
    public typealias Check = @Sendable (UnsafeRawBufferPointer) throws(InvariantViolation) -> Void

    public static let byName: [String: Check] = [
        "http1-request": { (d) throws(InvariantViolation) in try HTTP1RequestFuzz.check(d) },
        "http1-response": { (d) throws(InvariantViolation) in try HTTP1ResponseFuzz.check(d) },
        "chunked": { (d) throws(InvariantViolation) in try ChunkedFuzz.check(d) },
        "path": { (d) throws(InvariantViolation) in try PathFuzz.check(d) },
        "token": { (d) throws(InvariantViolation) in try TokenFuzz.check(d) },
        "config": { (d) throws(InvariantViolation) in try ConfigFuzz.check(d) },
        // fuzz-h2-server keeps its checks in FuzzH2Support, which lists every problem it finds.
        "h2-server": { (d) throws(InvariantViolation) in
            let problems = H2ServerFuzz.check(d)
            if !problems.isEmpty { throw InvariantViolation("h2-server", problems.prefix(20).joined(separator: "; ")) }
        },
    ]

    /// What `check` finds in `bytes`, as a value (the corpus test): nil when every invariant held.
    public static func violation(of check: Check, on bytes: [UInt8]) -> InvariantViolation? {
        do throws(InvariantViolation) {
            try FuzzInput.withBytes(bytes, check)
        } catch {
            return error
        }
        return nil
    }

    /// The body of `LLVMFuzzerTestOneInput`: runs `check` and traps on a violation, so libFuzzer saves the input.
    public static func run(_ data: UnsafePointer<UInt8>, _ size: Int,
                           _ check: (UnsafeRawBufferPointer) throws(InvariantViolation) -> Void) -> CInt {
        do {
            try check(UnsafeRawBufferPointer(start: data, count: size))
        } catch {
            fatalError(error.description)
        }
        return 0
    }
}

/// Input-derived choices shared by the targets: deterministic, so a saved crash reproduces.
enum FuzzInput {
    /// FNV-1a over the bytes: a split position that moves with the input rather than a fixed offset.
    static func hash(_ d: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in d {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    /// The ways to cut `count` bytes into pieces that each check feeds one after another: whole, one split, two
    /// splits, and byte by byte for short inputs. Each plan lists the end offsets of its pieces.
    static func splitPlans(_ d: UnsafeRawBufferPointer, byteByByteUpTo limit: Int = 96) -> [[Int]] {
        let n = d.count
        var plans: [[Int]] = [[n]]
        guard n > 1 else { return plans }
        let h = hash(d)
        let a = Int(h % UInt64(n + 1))
        let b = Int((h >> 32) % UInt64(n + 1))
        plans.append([a, n])
        plans.append([min(a, b), max(a, b), n])
        if n <= limit { plans.append(Array(1...n)) }
        return plans
    }

    /// `body` over the bytes of `a`, keeping the typed error (`Array.withUnsafeBytes` would widen it).
    static func withBytes<R>(_ a: [UInt8], _ body: (UnsafeRawBufferPointer) throws(InvariantViolation) -> R) throws(InvariantViolation) -> R {
        let result = a.withUnsafeBytes { p -> Result<R, InvariantViolation> in
            do throws(InvariantViolation) { return .success(try body(p)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Hex text of bytes, for messages.
    static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes.prefix(256) {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self) + (bytes.count > 256 ? "…" : "")
    }
}
