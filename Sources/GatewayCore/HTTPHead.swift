/// The protocol a request or response travelled on.
public enum HTTPVersion: Sendable, Equatable {
    case http1_0
    case http1_1
    case http2

    public var text: String {
        switch self {
        case .http1_0: return "HTTP/1.0"
        case .http1_1: return "HTTP/1.1"
        case .http2: return "HTTP/2"
        }
    }
}

/// How the bytes of a message body are delimited on the wire.
public enum BodyFraming: Sendable, Equatable {
    case none
    case contentLength(Int)
    case chunked
    /// Response bodies only: the body ends when the upstream closes.
    case untilClose
}

/// A request line plus fields, as parsed (HTTP/1.1) or assembled from pseudo-headers (HTTP/2).
public struct HTTPRequestHead: Sendable {
    public var method: String
    /// The request target as sent (origin-form path and query for normal requests).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// HTTP/2 `:authority` or HTTP/1.1 `Host`; nil when absent or empty.
    public var authority: String? {
        get { storedAuthority.isEmpty ? nil : storedAuthority }
        set { storedAuthority = newValue ?? "" }
    }
    /// HTTP/2 extended CONNECT `:protocol` (RFC 8441), e.g. `websocket`; nil when absent or empty.
    public var extendedProtocol: String? {
        get { storedExtendedProtocol.isEmpty ? nil : storedExtendedProtocol }
        set { storedExtendedProtocol = newValue ?? "" }
    }
    public var framing: BodyFraming
    /// Whether the client wants the connection kept after this exchange.
    public var keepAlive: Bool
    // Stored as plain strings, empty for none: swiftc 6.3 compiles every initializer of a struct this size that holds
    // an `Optional<String>` with a dead copy and destroy of the whole value (a retain and a release per field). A
    // property wrapper doing the same brings the copy back (checked in the disassembly), hence the spelled-out pairs.
    private var storedAuthority: String
    private var storedExtendedProtocol: String

    public init(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders,
                authority: String? = nil, extendedProtocol: String? = nil,
                framing: BodyFraming = .none, keepAlive: Bool = true) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        storedAuthority = authority ?? ""
        storedExtendedProtocol = extendedProtocol ?? ""
        self.framing = framing
        self.keepAlive = keepAlive
    }

    /// Moves the head out and leaves an empty one: how a head handed over `inout` is taken without a copy.
    public mutating func take() -> HTTPRequestHead {
        var out = HTTPRequestHead(method: "", target: "", version: version, headers: HTTPHeaders())
        swap(&out, &self)
        return out
    }
}

/// A status line plus fields.
public struct HTTPResponseHead: Sendable {
    public var status: Int
    public var reason: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: BodyFraming
    /// Whether the sender keeps the connection after this response.
    public var keepAlive: Bool

    public init(status: Int, reason: String = "", version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(),
                framing: BodyFraming = .none, keepAlive: Bool = true) {
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers
        self.framing = framing
        self.keepAlive = keepAlive
    }

    /// 1xx heads are interim: another head follows.
    public var isInformational: Bool { status >= 100 && status < 200 }
}

/// Standard reason phrases for the statuses the gateway writes itself.
public enum HTTPStatus {
    public static func reason(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 204: return "No Content"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 417: return "Expectation Failed"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status"
        }
    }
}
