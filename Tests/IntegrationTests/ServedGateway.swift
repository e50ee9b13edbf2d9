import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `session-gateway serve` as a child process in front of the bundled echo backend, with a `replay:` section of the
/// test's own: for what only the real binary shows (its output, `/metrics`, one process per gateway). `stop()`
/// SIGKILLs both processes and removes the config.
final class ServedGateway {
    let gateway: GatewayBinary
    let echo: GatewayBinary
    let listen: Int
    let admin: Int
    let config: TempConfig
    /// The environment the gateway (and `check`) runs with: the app secret plus the test's own variables.
    let environment: [String: String]

    /// Starts both and waits until both listen; `replay` is YAML appended to `TempConfig.yaml` (routes `/api`
    /// auth required, `/public` none).
    init(replay: String, environment: [String: String] = [:]) throws {
        let (listen, admin, echoPort) = (try freePort(), try freePort(), try freePort())
        self.listen = listen
        self.admin = admin
        let config = try TempConfig(TempConfig.yaml(listen: listen, admin: admin, upstream: echoPort) + replay)
        self.config = config
        let env = ["SHOPIFY_API_SECRET": TestStack.secret].merging(environment) { $1 }
        self.environment = env
        let echo: GatewayBinary
        do { echo = try GatewayBinary(["echo-backend", "--listen", "127.0.0.1:\(echoPort)"]) } catch {
            config.remove()
            throw error
        }
        self.echo = echo
        do { gateway = try GatewayBinary(["serve", "--config", config.path], environment: env) } catch {
            echo.kill()
            config.remove()
            throw error
        }
        // Waiting for start-up, not a timing assertion: the limit only turns a hang into a failure.
        guard waitForListener(port: echoPort), waitForListener(port: listen) else {
            let stderr = gateway.stderr
            stop()
            throw TestFailure("gateway did not start: \(stderr)")
        }
    }

    func stop() {
        gateway.kill()
        echo.kill()
        config.remove()
    }

    /// One request on a fresh connection to the gateway's listener.
    func get(_ target: String, token: String? = nil) throws -> HTTPTestResponse? {
        let c = try RawClient(port: listen)
        c.send(httpRequest("GET", target, token: token))
        return c.readResponse()
    }

    /// The status of `GET /readyz` on the admin listener.
    func readyz() throws -> Int? {
        let c = try RawClient(port: admin)
        c.send(httpRequest("GET", "/readyz"))
        return c.readResponse()?.status
    }

    /// `GET /metrics` on the admin listener, as text ("" when it did not answer).
    func metrics() throws -> String {
        let c = try RawClient(port: admin)
        c.send(httpRequest("GET", "/metrics"))
        return c.readResponse()?.bodyText ?? ""
    }

    /// `session-gateway check` on the same config and environment.
    func check() throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(gatewayBinary(), ["check", "--config", config.path],
                       environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
    }

    /// SIGTERM and wait for the exit status (so every log line is out), then everything it printed.
    func terminate() -> (status: Int32?, output: String) {
        gateway.signal(SIGTERM)
        let status = gateway.waitForExit()
        return (status, gateway.stdout + gateway.stderr)
    }

    /// The value of the sample whose line starts with `prefix` (name, and labels if any) in Prometheus text.
    static func sample(_ text: String, _ prefix: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(prefix + " ") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }
}
