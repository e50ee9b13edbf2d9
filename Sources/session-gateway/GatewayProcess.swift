import ArgumentParser
import Dispatch
import Foundation
import GatewayConfig
import GatewayCore
import GatewayLoop
import GatewayProxy
import Logging
import Metrics
import Prometheus

/// Wiring of the long-running commands: logging and metrics bootstrap, the server, signals.
///
/// Kept out of `main`/`@MainActor` contexts: closures made here run on Dispatch queues.
enum GatewayProcess {
    static func run(config: GatewayConfig, configPath: String, loops: Int) throws -> Never {
        SignalWatcher.ignoreSIGPIPE()
        LogBootstrap.bootstrap(level: config.logging.level, format: config.logging.format)
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        for label in DurationHistograms.labels { factory.valueHistogramBuckets[label] = DurationHistograms.buckets }
        MetricsSystem.bootstrap(factory)
        let logger = Logger(label: "session-gateway")
        let server: GatewayServer
        do {
            server = try GatewayServer(config: config, loopCount: loops, logger: logger,
                                       metricsRenderer: { registry.emitToString() })
        } catch {
            logger.error("startup failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }

        let signals = SignalWatcher()
        let shutdown = config.shutdown
        let onStop: @Sendable () -> Void = {
            server.stop(readinessGrace: shutdown.readinessGrace, drainTimeout: shutdown.drainTimeout) {
                logger.info("drained; exiting")
                server.flushLogs()
                exit(0)
            }
        }
        signals.watch(SIGTERM, handler: onStop)
        signals.watch(SIGINT, handler: onStop)
        signals.watch(SIGHUP) {
            let report = ConfigLoader.check(path: configPath, environment: ProcessInfo.processInfo.environment)
            guard let cfg = report.config, report.isValid else {
                logger.error("reload rejected; keeping the running config",
                             metadata: ["errors": "\(report.errors.map(\.description).joined(separator: "; "))"])
                return
            }
            do {
                try server.reload(cfg)
                logger.info("config reloaded", metadata: ["path": "\(configPath)"])
            } catch {
                logger.error("reload rejected; keeping the running config", metadata: ["error": "\(error)"])
            }
        }
        // Listen only once the signal sources exist: a SIGHUP or SIGTERM sent as soon as the port answers must
        // not be lost (SIG_IGN discards a pending signal) or kill the process with the default action.
        do {
            try server.start()
        } catch {
            logger.error("startup failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        for a in server.listenerAddresses {
            logger.info("listening", metadata: ["address": "\(a)"])
        }
        if let a = server.adminAddress { logger.info("admin listening", metadata: ["address": "\(a)"]) }
        withExtendedLifetime((server, signals)) { parkMainThread() }
    }

    static func runEcho(listen: String, loops: Int) throws -> Never {
        SignalWatcher.ignoreSIGPIPE()
        var config = GatewayConfig()
        config.listeners = [ListenerConfig(address: listen)]
        config.admin = nil
        config.logging.level = .warning
        let server: GatewayServer
        do {
            server = try GatewayServer(config: config, kind: .echo, loopCount: loops)
            try server.start()
        } catch {
            FileHandle.standardError.write(Data("echo-backend: cannot listen on \(listen): \(error)\n".utf8))
            throw ExitCode(1)
        }
        if let a = server.listenerAddresses.first {
            FileHandle.standardError.write(Data("echo-backend listening on \(a)\n".utf8))
        }
        let signals = SignalWatcher()
        signals.watch(SIGTERM) { exit(0) }
        signals.watch(SIGINT) { exit(0) }
        withExtendedLifetime((server, signals)) { parkMainThread() }
    }

    /// Hands the main thread to Dispatch for good.
    ///
    /// `dispatchMain()` ends the main thread with pthread_exit, and libdispatch then waits for signals on that
    /// thread's stack: its SIGHUP/SIGTERM handler runs where our frames were. AddressSanitizer never saw those frames
    /// return, so their redzones stay poisoned, and the handler's first write there was reported as a
    /// stack-buffer-overflow that killed the process on every reload or drain under `make test-asan`.
    /// `__asan_handle_no_return` (what instrumented code calls before any call that never returns) clears them;
    /// outside an ASan build the symbol is absent and this is one failed lookup at startup.
    private static func parkMainThread() -> Never {
        if let symbol = dlsym(nil, "__asan_handle_no_return") {
            unsafeBitCast(symbol, to: (@convention(c) () -> Void).self)()
        }
        dispatchMain()
    }
}
