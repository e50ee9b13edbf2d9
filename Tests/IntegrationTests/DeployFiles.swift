import Foundation
import Yams

/// The files under deploy/ as the tests read them: every gateway config (plain files and the ones embedded in
/// Kubernetes ConfigMaps), the manifests, and the tools that validate them.
enum DeployFiles {
    /// The repository root (this file is Tests/IntegrationTests/DeployFiles.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let deploy = root.appendingPathComponent("deploy")

    static func url(_ relative: String) -> URL { deploy.appendingPathComponent(relative) }
    static func text(_ relative: String) throws -> String { try String(contentsOf: url(relative), encoding: .utf8) }

    /// Every file under deploy/ whose name ends in `suffix`, as paths relative to deploy/, sorted.
    static func files(endingIn suffix: String) -> [String] {
        let items = FileManager.default.enumerator(atPath: deploy.path)?.compactMap { $0 as? String } ?? []
        return items.filter { $0.hasSuffix(suffix) }.sorted()
    }

    /// The Kubernetes manifests: every YAML file under deploy/kubernetes/.
    static var manifests: [String] { files(endingIn: ".yaml").filter { $0.hasPrefix("kubernetes/") } }

    /// The documents of a multi-document YAML file, as Yams loads them.
    static func documents(_ relative: String) throws -> [[String: Any]] {
        try Yams.load_all(yaml: text(relative)).compactMap { $0 as? [String: Any] }
    }

    /// Every gateway config in deploy/: files named gateway.yaml, and each ConfigMap key gateway.yaml in a manifest.
    static func gatewayConfigs() throws -> [(name: String, yaml: String)] {
        var configs = try files(endingIn: "gateway.yaml").map { (name: $0, yaml: try text($0)) }
        for manifest in manifests {
            for doc in try documents(manifest) where doc["kind"] as? String == "ConfigMap" {
                let name = (doc["metadata"] as? [String: Any])?["name"] as? String ?? "?"
                if let yaml = (doc["data"] as? [String: Any])?["gateway.yaml"] as? String {
                    configs.append((name: "\(manifest) ConfigMap \(name)", yaml: yaml))
                }
            }
        }
        return configs
    }

    /// A duration as the config and systemd write it (`250ms`, `20s`, `5m`), in seconds.
    static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let n = Double(text.dropLast(suffix.count)) { return n * factor }
        }
        return nil
    }

    /// `shutdown.drain_timeout` plus `shutdown.readiness_grace` of a gateway config, in seconds (defaults 20s and 0s).
    static func stopBudget(_ yaml: String) throws -> Double {
        let shutdown = (try Yams.load(yaml: yaml) as? [String: Any])?["shutdown"] as? [String: Any] ?? [:]
        let drain = (shutdown["drain_timeout"] as? String).flatMap(seconds) ?? 20
        let grace = (shutdown["readiness_grace"] as? String).flatMap(seconds) ?? 0
        return drain + grace
    }

    /// A validating tool: kubernetes-validate from the venv `make deps` fills, or one on PATH.
    /// Throws (never skips) when it is missing, naming what installs it.
    static func kubernetesValidate() throws -> String {
        let venv = root.appendingPathComponent(".build/tools/bin/kubernetes-validate").path
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/kubernetes-validate" }
        guard let found = ([venv] + path).first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw TestFailure("kubernetes-validate is not installed: run `make deps` (it installs it into .build/tools)")
        }
        return found
    }

    /// systemd-analyze, which the `systemd` package ships; throws when it is missing.
    static func systemdAnalyze() throws -> String {
        let found = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: FileManager.default.isExecutableFile(atPath:))
        guard let found else { throw TestFailure("systemd-analyze is not installed: run `make deps` (apt-get install systemd)") }
        return found
    }

    /// Runs `session-gateway check` on `yaml` as deployed: each absolute `file:` path is given a copy under a temporary
    /// root (holding `fileContent`), and the environment has the variables the configs name.
    static func check(_ yaml: String, fileContent: String = "deploy-test-secret") throws -> (status: Int32, stdout: String, stderr: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-check-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var text = yaml
        let pattern = try Regex(#"file:\s*(/[^\s,}]+)"#)
        for match in yaml.matches(of: pattern) {
            guard let path = match.output[1].substring.map(String.init) else { continue }
            let copy = dir.appendingPathComponent("root").appendingPathComponent(path)
            try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
            try (fileContent + "\n").write(to: copy, atomically: true, encoding: .utf8)
            text = text.replacingOccurrences(of: path, with: copy.path)
        }
        let config = dir.appendingPathComponent("gateway.yaml")
        try text.write(to: config, atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env["SHOPIFY_API_SECRET"] = fileContent
        env["REDIS_PASSWORD"] = fileContent
        return try runProcess(gatewayBinary(), ["check", "--config", config.path], environment: env)
    }
}
