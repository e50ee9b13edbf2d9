/// The outcome of reading a configuration: the config when it is valid, and every issue found either way.
public struct ConfigReport: Sendable {
    /// The configuration; nil whenever `issues` holds an error.
    public var config: GatewayConfig?
    /// Errors and warnings, sorted by line then column.
    public var issues: [ConfigIssue]

    /// Bundles a result.
    public init(config: GatewayConfig?, issues: [ConfigIssue]) {
        self.config = config
        self.issues = issues
    }

    /// The issues that make the file invalid.
    public var errors: [ConfigIssue] { issues.filter { $0.severity == .error } }
    /// The issues that do not.
    public var warnings: [ConfigIssue] { issues.filter { $0.severity == .warning } }
    /// True when there is a config and no error.
    public var isValid: Bool { config != nil && errors.isEmpty }

    /// The config, or every error at once.
    public var result: Result<GatewayConfig, ConfigErrors> {
        if let config, errors.isEmpty { return .success(config) }
        return .failure(ConfigErrors(errors: errors, warnings: warnings))
    }
}
