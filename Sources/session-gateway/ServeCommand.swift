import ArgumentParser
import Foundation
import GatewayConfig

/// `session-gateway serve`: runs the gateway until SIGTERM/SIGINT, reloading on SIGHUP.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway (the default command)."
    )

    @OptionGroup var configOption: ConfigOption

    @Option(name: .long, help: "Event loops (default: one per core).")
    var loops: Int = 0

    func run() throws {
        let path = configOption.path
        let env = ProcessInfo.processInfo.environment
        let report = ConfigLoader.check(path: path, environment: env)
        for issue in report.issues { FileHandle.standardError.write(Data((issue.description + "\n").utf8)) }
        guard let cfg = report.config, report.isValid else { throw ExitCode(1) }
        try GatewayProcess.run(config: cfg, configPath: path, loops: loops)
    }
}
