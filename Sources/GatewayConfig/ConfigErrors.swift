/// Every error found in a configuration file, thrown or returned all at once so a user fixes them in one pass.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    /// The errors, sorted by line and column; never empty when produced by `ConfigLoader`.
    public var errors: [ConfigIssue]
    /// Warnings found alongside (kept so a reload log can show them too).
    public var warnings: [ConfigIssue]

    /// Wraps the issues of a failed load.
    public init(errors: [ConfigIssue], warnings: [ConfigIssue] = []) {
        self.errors = errors
        self.warnings = warnings
    }

    /// One error per line, in `FILE:LINE:COL: key.path: message` form.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
