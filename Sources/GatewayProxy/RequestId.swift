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

    /// A new id: 32 lower-case hex digits, a random 64-bit prefix per thread followed by that thread's counter.
    ///
    /// Per-thread state keeps this lock-free and syscall-free after a thread's first id; ids stay unique
    /// because prefixes are random (a collision needs two threads drawing the same 64 bits).
    public static func generate() -> String {
        let state = IdState.current()
        state.counter &+= 1
        // Written straight into the string's storage: one allocation per id.
        return String(unsafeUninitializedCapacity: 32) { out in
            writeHex(state.prefix, into: out, at: 0)
            writeHex(state.counter, into: out, at: 16)
            return 32
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

    private static func writeHex(_ v: UInt64, into out: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { d in
            for k in 0..<16 {
                out[offset + k] = d[Int((v >> UInt64(60 - 4 * k)) & 0xF)]
            }
        }
    }
}

/// One thread's id prefix and counter, reached through a pthread key (no lock, no atomics needed).
private final class IdState {
    let prefix: UInt64
    var counter: UInt64 = 0

    init() {
        var rng = SystemRandomNumberGenerator()
        prefix = rng.next()
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
