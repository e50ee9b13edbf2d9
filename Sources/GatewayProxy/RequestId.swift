#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `X-Request-Id` of an exchange: the client's when it is sane, otherwise a fresh one.
public enum RequestId {
    /// The client's value when it is 1-128 characters of `[A-Za-z0-9._:-]`; nil otherwise (then generate one).
    public static func sanitized(_ clientValue: String?) -> String? {
        guard let value = clientValue else { return nil }
        let utf8 = value.utf8
        guard !utf8.isEmpty, utf8.count <= 128 else { return nil }
        for b in utf8 where !isIdChar(b) { return nil }
        return value
    }

    /// How many characters a generated id has: 15 fit a Swift small string, kept inline (no allocation, and
    /// copies of it along the request's path cost no reference counting).
    public static let generatedLength = 15

    /// A new id: 15 characters of `0-9a-v` (5 bits each), a random 35-bit prefix per thread followed by that
    /// thread's 40-bit counter.
    ///
    /// Per-thread state keeps this lock-free and syscall-free after a thread's first id; ids stay unique because
    /// prefixes are random (a collision needs two threads drawing the same 35 bits) and a thread draws a new
    /// prefix before its counter could wrap.
    public static func generate() -> String {
        let state = IdState.current()
        state.next()
        return String(unsafeUninitializedCapacity: generatedLength) { out in
            writeBase32(state.prefix, digits: 7, into: out, at: 0)
            writeBase32(state.counter, digits: 8, into: out, at: 7)
            return generatedLength
        }
    }

    @inline(__always)
    static func isIdChar(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// The low `5 * digits` bits of `v`, most significant first.
    private static func writeBase32(_ v: UInt64, digits: Int, into out: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        let alphabet: StaticString = "0123456789abcdefghijklmnopqrstuv"
        alphabet.withUTF8Buffer { a in
            for k in 0..<digits {
                out[offset + k] = a[Int((v >> UInt64(5 * (digits - 1 - k))) & 0x1F)]
            }
        }
    }
}

/// One thread's id prefix and counter, reached through a pthread key (no lock, no atomics needed).
private final class IdState {
    static let prefixMask: UInt64 = 1 << 35 - 1
    static let counterMask: UInt64 = 1 << 40 - 1
    private(set) var prefix: UInt64
    private(set) var counter: UInt64 = 0

    init() { prefix = IdState.drawPrefix() }

    private static func drawPrefix() -> UInt64 {
        var rng = SystemRandomNumberGenerator()
        return rng.next() & prefixMask
    }

    /// Advances to the next id; a new prefix when the counter's 40 bits run out.
    func next() {
        counter = (counter &+ 1) & IdState.counterMask
        if counter == 0 {
            prefix = IdState.drawPrefix()
            counter = 1
        }
    }

    static func current() -> IdState {
        let key = idStateKey
        if let raw = pthread_getspecific(key) {
            return Unmanaged<IdState>.fromOpaque(raw).takeUnretainedValue()
        }
        let state = IdState()
        pthread_setspecific(key, Unmanaged.passRetained(state).toOpaque())
        return state
    }
}

/// Frees a thread's `IdState` when the thread ends.
private func releaseIdState(_ raw: UnsafeMutableRawPointer?) {
    guard let raw else { return }
    Unmanaged<IdState>.fromOpaque(raw).release()
}

private let idStateKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, { raw in releaseIdState(raw) })
    return key
}()
