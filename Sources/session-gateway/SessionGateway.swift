import ArgumentParser

/// The `session-gateway` command: a reverse proxy that enforces Shopify session tokens.
@main
struct SessionGateway: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session-gateway",
        abstract: "A reverse proxy that verifies Shopify session tokens before forwarding to your backend.",
        subcommands: [ServeCommand.self, CheckCommand.self, TokenCommand.self, EchoBackendCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
