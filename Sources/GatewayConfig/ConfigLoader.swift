import Foundation
import Yams

/// Reads `gateway.yaml` into a `GatewayConfig`, reporting every error at once with its line and column.
public enum ConfigLoader {
    /// Parses YAML text; `fileName` is used in issues, relative `file:`/TLS paths resolve against `baseDirectory`.
    public static func parse(yaml: String, fileName: String = "gateway.yaml", environment: [String: String],
                             baseDirectory: String = "") -> ConfigReport {
        parse(yaml: yaml, fileName: fileName, environment: environment, baseDirectory: baseDirectory,
              fileReader: ConfigParser.readFileSystem)
    }

    /// `parse` with the files the config names read through `fileReader` instead of the file system (the config
    /// fuzzer must never read the machine's files).
    package static func parse(yaml: String, fileName: String = "gateway.yaml", environment: [String: String],
                              baseDirectory: String = "", fileReader: @escaping ConfigFileReader) -> ConfigReport {
        let parser = ConfigParser(fileName: fileName, environment: environment, baseDirectory: baseDirectory,
                                  fileReader: fileReader)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            return ConfigReport(config: nil, issues: [syntaxIssue(error, fileName: fileName, yaml: yaml)])
        } catch {
            return ConfigReport(config: nil, issues: [ConfigIssue(file: fileName, line: 1, column: 1, keyPath: "(syntax)",
                                                                  message: "\(error)")])
        }
        guard let root, !parser.isNull(root) else {
            let issue = ConfigIssue(file: fileName, line: 1, column: 1, keyPath: "(root)",
                                    message: "the configuration is empty (see the example gateway.yaml)")
            return ConfigReport(config: nil, issues: [issue])
        }
        let config = parser.parseRoot(root)
        let issues = parser.issues.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
        return ConfigReport(config: issues.contains(where: \.isError) ? nil : config, issues: issues)
    }

    /// Reads and parses the file at `path`, as `check` does; issues name the file as `path` was written.
    public static func check(path: String, environment: [String: String]) -> ConfigReport {
        let url = URL(fileURLWithPath: path)
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read as UTF-8 text" : "does not exist"
            let issue = ConfigIssue(file: path, line: 1, column: 1, keyPath: "(file)",
                                    message: "configuration file \(reason)")
            return ConfigReport(config: nil, issues: [issue])
        }
        let base = url.deletingLastPathComponent().path
        return parse(yaml: text, fileName: path, environment: environment, baseDirectory: base)
    }

    /// The config at `path`, or every error in it (warnings are in `ConfigErrors.warnings` on failure only).
    public static func load(path: String, environment: [String: String]) -> Result<GatewayConfig, ConfigErrors> {
        check(path: path, environment: environment).result
    }

    private static func syntaxIssue(_ error: YamlError, fileName: String, yaml: String) -> ConfigIssue {
        func issue(_ mark: Mark?, _ message: String) -> ConfigIssue {
            ConfigIssue(file: fileName, line: mark?.line ?? 1, column: mark?.column ?? 1, keyPath: "(syntax)", message: message)
        }
        func issue(_ position: (line: Int, column: Int), _ message: String) -> ConfigIssue {
            ConfigIssue(file: fileName, line: position.line, column: position.column, keyPath: "(syntax)", message: message)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) (line \($0.mark.line)): " } ?? ""
            return issue(mark, prefix + problem)
        case .reader(let problem, let offset, _, _):
            return issue(position(ofUTF8Offset: offset ?? 0, in: yaml), problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            // Yams marks the first of the repeated key nodes in sorted order, but keys that are not scalars, or
            // distinct key nodes with the same text ('' and ""), have no total order, so the mark changed from one
            // load of the same file to the next (found by fuzz-config). gateway.yaml keys are plain names: such keys
            // are pointed at by the document, the same every time.
            let ordered = Set(duplicates).count == duplicates.count && !duplicates.contains("<uncovertable>")
            let mark = ordered ? context.mark : nil
            return issue(mark, "duplicate key \(keys) in the same mapping")
        default:
            return issue(nil, "\(error)")
        }
    }

    /// libyaml reports reader errors as a byte offset; turn it into line and column.
    private static func position(ofUTF8Offset utf8Offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for (i, byte) in text.utf8.enumerated() {
            if i >= utf8Offset { break }
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
        }
        return (line, column)
    }
}
