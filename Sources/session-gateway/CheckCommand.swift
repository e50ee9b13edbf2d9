import ArgumentParser
import Foundation
import GatewayConfig

/// `session-gateway check`: validates the configuration and prints a summary with secrets redacted.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and print a summary (secrets redacted).",
        discussion: "Exits 0 when valid. Otherwise prints every error as FILE:LINE:COL: key.path: message on stderr and exits 1."
    )

    @OptionGroup var configOption: ConfigOption

    func run() throws {
        let path = configOption.path
        let report = ConfigLoader.check(path: path, environment: ProcessInfo.processInfo.environment)
        // Warnings and errors go to stderr in compiler form, so editors and CI can jump to them.
        for issue in report.issues {
            FileHandle.standardError.write(Data((issue.description + "\n").utf8))
        }
        // Nothing else goes to stderr, so every line there is one issue a script can parse.
        guard let loaded = report.config, report.isValid else { throw ExitCode.failure }
        print("\(path): valid")
        print(loaded.summary())
    }
}
