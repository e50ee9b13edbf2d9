import Foundation
import GatewayConfig
import Logging

/// Bootstraps swift-log once for the process: JSON lines or swift-log's own text format, on stderr.
enum LogBootstrap {
    static func bootstrap(level: LogLevel, format: LogFormat) {
        let lvl: Logger.Level
        switch level {
        case .trace: lvl = .trace
        case .debug: lvl = .debug
        case .info: lvl = .info
        case .warning: lvl = .warning
        case .error: lvl = .error
        }
        LoggingSystem.bootstrap { label in
            var h: any LogHandler
            switch format {
            case .json: h = JSONLogHandler(label: label)
            case .text: h = StreamLogHandler.standardError(label: label)
            }
            h.logLevel = lvl
            return h
        }
    }
}

/// One JSON object per log event on stderr (the access log owns stdout).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let m = event.metadata { fields.merge(m) { _, new in new } }
        let time = ISO8601DateFormatter().string(from: Date())
        var line = "{\"time\":\"\(time)\",\"level\":\"\(event.level)\",\"logger\":\"\(label.jsonEscaped)\",\"message\":\"\("\(event.message)".jsonEscaped)\""
        for (k, v) in fields.sorted(by: { $0.key < $1.key }) {
            line += ",\"\(k.jsonEscaped)\":\"\("\(v)".jsonEscaped)\""
        }
        line += "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
