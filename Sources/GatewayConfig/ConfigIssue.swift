/// One problem found in `gateway.yaml`, located by line and column, printed the way compilers do.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    /// Whether the issue makes the file invalid (`error`) or is only worth a look (`warning`).
    public enum Severity: String, Sendable, Equatable {
        case error
        case warning
    }

    /// The configuration file as the user named it (`gateway.yaml`, `/etc/gateway/gateway.yaml`).
    public var file: String
    /// 1-based line of the YAML node at fault.
    public var line: Int
    /// 1-based column of the YAML node at fault (counted in Unicode scalars, as libyaml does).
    public var column: Int
    /// Where in the document: `upstreams[0].connect_timeout`, `apps[1].secrets[0].env`; `(syntax)` for YAML syntax errors.
    public var keyPath: String
    /// What is wrong, in words a user can act on.
    public var message: String
    /// Error or warning.
    public var severity: Severity

    /// Makes an issue; `severity` defaults to `.error`.
    public init(file: String, line: Int, column: Int, keyPath: String, message: String, severity: Severity = .error) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
        self.severity = severity
    }

    /// True for `.error`.
    public var isError: Bool { severity == .error }

    /// `FILE:LINE:COL: key.path: message`, with `warning: ` before the message of a warning.
    public var description: String {
        let prefix = severity == .warning ? "warning: " : ""
        return "\(file):\(line):\(column): \(keyPath): \(prefix)\(message)"
    }
}
