/// Why a command got no reply.
public enum RedisFault: Error, Sendable, Equatable {
    /// No reply within the command's timeout (the connect and login count against it).
    case timeout
    /// Not connected: refused, reset, closed, a refused login, or backing off after one of those.
    case connection
    /// Redis sent bytes that are not RESP.
    case protocolError
}
