import Foundation
import GatewayConfig

/// A valid base document; tests append or swap sections to provoke one issue at a time.
let minimalYAML = """
apps:
  - client_id: app-1
    secrets: [{env: SECRET}]
upstreams:
  - name: app
    servers: ["127.0.0.1:3000"]
routes:
  - path_prefix: /
    upstream: app
"""

let testEnvironment = ["SECRET": "s3cr3t-bytes-from-env", "EMPTY": ""]

func parse(_ yaml: String, environment: [String: String] = testEnvironment, base: String = "") -> ConfigReport {
    ConfigLoader.parse(yaml: yaml, fileName: "gateway.yaml", environment: environment, baseDirectory: base)
}

/// The printed errors of a document.
func errors(_ yaml: String, environment: [String: String] = testEnvironment, base: String = "") -> [String] {
    parse(yaml, environment: environment, base: base).errors.map(\.description)
}

/// A fresh temporary directory for file-based secrets and certificates.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "gwconfig-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
