import ArgumentParser
import Foundation
import GatewayConfig

/// `session-gateway echo-backend`: answers every request with a JSON description of what it received.
struct EchoBackendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-backend",
        abstract: "A small backend that answers 200 with JSON of the request it received (method, path, headers, body size and SHA-256)."
    )

    @Option(name: .long, help: "HOST:PORT to listen on.")
    var listen: String = "127.0.0.1:3000"

    @Option(name: .long, help: "Event loops (default: one per core).")
    var loops: Int = 0

    func run() throws {
        try GatewayProcess.runEcho(listen: listen, loops: loops)
    }
}
