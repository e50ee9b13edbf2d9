import ArgumentParser
import Foundation

/// The `--config` option every command shares (one `@OptionGroup` instead of four copies).
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Path to gateway.yaml (default: $GATEWAY_CONFIG, then ./gateway.yaml).")
    var config: String?

    /// The file to read: `--config`, else `$GATEWAY_CONFIG`, else `./gateway.yaml`.
    var path: String { ConfigPath.resolve(config) }
}

/// Where the configuration file is: `--config`, else `$GATEWAY_CONFIG`, else `./gateway.yaml`.
enum ConfigPath {
    /// The default when neither the option nor the environment names a file.
    static let fallback = "./gateway.yaml"

    /// Resolves the path every command reads its configuration from.
    static func resolve(_ option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let option, !option.isEmpty { return option }
        if let fromEnvironment = environment["GATEWAY_CONFIG"], !fromEnvironment.isEmpty { return fromEnvironment }
        return fallback
    }
}
