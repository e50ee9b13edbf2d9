import Foundation
import GatewayCore
import Yams

/// Walks a composed YAML tree into `GatewayConfig`, collecting every issue with the line and column of its node.
///
/// Readers return nil after recording an issue, so parsing goes on and the user sees every error at once.
final class ConfigParser {
    let fileName: String
    let environment: [String: String]
    let baseDirectory: String
    /// Reads the files the config names (secrets, TLS material); the file system unless a caller injects another.
    let fileReader: ConfigFileReader
    private(set) var issues: [ConfigIssue] = []

    init(fileName: String, environment: [String: String], baseDirectory: String,
         fileReader: @escaping ConfigFileReader = ConfigParser.readFileSystem) {
        self.fileName = fileName
        self.environment = environment
        self.baseDirectory = baseDirectory
        self.fileReader = fileReader
    }

    var hasErrors: Bool { issues.contains { $0.isError } }

    // MARK: Reporting

    func error(_ mark: Mark?, _ path: String, _ message: String) {
        record(mark, path, message, .error)
    }

    func warning(_ mark: Mark?, _ path: String, _ message: String) {
        record(mark, path, message, .warning)
    }

    func error(_ node: Node, _ path: String, _ message: String) { error(node.mark, path, message) }
    func warning(_ node: Node, _ path: String, _ message: String) { warning(node.mark, path, message) }

    private func record(_ mark: Mark?, _ path: String, _ message: String, _ severity: ConfigIssue.Severity) {
        issues.append(ConfigIssue(file: fileName, line: mark?.line ?? 1, column: mark?.column ?? 1,
                                  keyPath: path.isEmpty ? "(root)" : path, message: message, severity: severity))
    }

    // MARK: Mappings

    /// A mapping's values by key, after unknown keys were reported.
    struct Fields {
        let path: String
        let mark: Mark?
        var values: [String: Node] = [:]
        var keyMarks: [String: Mark] = [:]

        subscript(key: String) -> Node? { values[key] }
        func has(_ key: String) -> Bool { values[key] != nil }
        func child(_ key: String) -> String { path.key(key) }
        /// Where to point at a key: the key itself, else the mapping.
        func mark(of key: String) -> Mark? { keyMarks[key] ?? mark }
    }

    /// Reads a mapping whose keys must come from `allowed`; a null node reads as an empty mapping.
    func fields(_ node: Node, _ path: String, allowed: [String]) -> Fields? {
        if isNull(node) { return Fields(path: path, mark: node.mark) }
        guard case .mapping(let mapping) = node else {
            error(node, path, "expected a mapping with keys \(allowed.joined(separator: ", ")), found \(kind(node))")
            return nil
        }
        var fields = Fields(path: path, mark: mapping.mark)
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                error(keyNode, path, "keys must be plain names, found \(kind(keyNode))")
                continue
            }
            guard allowed.contains(key.string) else {
                error(keyNode, path.key(key.string), "unknown key '\(key.string)' (expected one of: \(allowed.joined(separator: ", ")))")
                continue
            }
            fields.values[key.string] = value
            if let mark = key.mark { fields.keyMarks[key.string] = mark }
        }
        return fields
    }

    /// The node under a key that must be present; reports it missing at the mapping otherwise.
    func required(_ fields: Fields, _ key: String) -> Node? {
        if let node = fields[key], !isNull(node) { return node }
        error(fields.mark(of: key), fields.child(key), "missing required key '\(key)'")
        return nil
    }

    // MARK: Scalars

    func isNull(_ node: Node) -> Bool {
        if case .scalar = node, node.tag.rawValue == Tag.Name.null.rawValue { return true }
        return false
    }

    func kind(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return "nothing (null)"
            case Tag.Name.bool.rawValue: return "the boolean \(scalar.string)"
            case Tag.Name.int.rawValue, Tag.Name.float.rawValue: return "the number \(scalar.string)"
            default: return "'\(scalar.string)'"
            }
        }
    }

    /// A string; numbers are taken as written (`client_id: 1234`), booleans and null are errors.
    func string(_ node: Node, _ path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            error(node, path, "expected a string, found \(kind(node))")
            return nil
        }
        switch node.tag.rawValue {
        case Tag.Name.bool.rawValue, Tag.Name.null.rawValue:
            error(node, path, "expected a string, found \(kind(node)) (quote it if it is meant as text)")
            return nil
        default:
            return scalar.string
        }
    }

    func nonEmptyString(_ node: Node, _ path: String) -> String? {
        guard let text = string(node, path) else { return nil }
        guard !text.isEmpty else {
            error(node, path, "must not be empty")
            return nil
        }
        return text
    }

    func bool(_ node: Node, _ path: String) -> Bool? {
        if node.tag.rawValue == Tag.Name.bool.rawValue, let value = node.bool { return value }
        error(node, path, "expected true or false, found \(kind(node))")
        return nil
    }

    func int(_ node: Node, _ path: String, minimum: Int) -> Int? {
        guard node.tag.rawValue == Tag.Name.int.rawValue, let value = node.int else {
            error(node, path, "expected an integer, found \(kind(node))")
            return nil
        }
        guard value >= minimum else {
            error(node, path, "must be at least \(minimum), found \(value)")
            return nil
        }
        return value
    }

    /// `250ms`, `10s`, `5m`, `2h`; `positive` rejects zero.
    func duration(_ node: Node, _ path: String, positive: Bool) -> TimeSpan? {
        guard let text = string(node, path) else { return nil }
        guard let span = TimeSpan.parse(text) else {
            error(node, path, "invalid duration '\(text)' (expected digits and a unit: 250ms, 10s, 5m, 2h)")
            return nil
        }
        if positive && span.nanoseconds <= 0 {
            error(node, path, "must be greater than zero")
            return nil
        }
        return span
    }

    /// `512`, `16KiB`, `10MiB`, `1GiB`, always positive.
    func size(_ node: Node, _ path: String) -> Int? {
        guard let text = string(node, path) else { return nil }
        guard let bytes = ByteSize.parse(text) else {
            error(node, path, "invalid size '\(text)' (expected bytes or a unit: 512, 16KiB, 10MiB)")
            return nil
        }
        guard bytes > 0 else {
            error(node, path, "must be greater than zero")
            return nil
        }
        return bytes
    }

    func choice<E: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, as: E.Type = E.self) -> E?
    where E.RawValue == String {
        let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .scalar(let scalar) = node, node.tag.rawValue != Tag.Name.null.rawValue else {
            error(node, path, "expected one of: \(allowed), found \(kind(node))")
            return nil
        }
        guard let value = E(rawValue: scalar.string) else {
            error(node, path, "invalid value '\(scalar.string)' (expected one of: \(allowed))")
            return nil
        }
        return value
    }

    /// `single-use` or `off`; a bare `off` (which YAML reads as false) means off too.
    func replayMode(_ node: Node, _ path: String) -> ReplayMode? {
        if node.tag.rawValue == Tag.Name.bool.rawValue, node.bool == false { return .off }
        return choice(node, path, as: ReplayMode.self)
    }

    // MARK: Lists

    func sequence(_ node: Node, _ path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            error(node, path, "expected a list, found \(kind(node))")
            return nil
        }
        return Array(sequence)
    }

    /// A list of strings; nil when the node is not a list or any item is not a string.
    func stringList(_ node: Node, _ path: String, nonEmptyItems: Bool = true) -> [String]? {
        guard let items = sequence(node, path) else { return nil }
        var result: [String] = []
        var ok = true
        for (i, item) in items.enumerated() {
            let value = nonEmptyItems ? nonEmptyString(item, path.item(i)) : string(item, path.item(i))
            if let value { result.append(value) } else { ok = false }
        }
        return ok ? result : nil
    }

    // MARK: Files

    /// A path as written, made relative to the config file's directory.
    func resolve(_ path: String) -> String {
        if path.hasPrefix("/") || baseDirectory.isEmpty { return path }
        return baseDirectory.hasSuffix("/") ? baseDirectory + path : baseDirectory + "/" + path
    }

    /// The bytes of a file, or why it cannot be read.
    func readFile(_ path: String) -> Result<[UInt8], FileProblem> { fileReader(path) }

    /// `readFile` on the real file system.
    static func readFileSystem(_ path: String) -> Result<[UInt8], FileProblem> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .failure(.missing) }
        guard !isDirectory.boolValue else { return .failure(.directory) }
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(.unreadable) }
        return .success([UInt8](data))
    }

    /// Checks that a file named in the config can be read, reporting at `node`; returns the resolved path.
    func readableFile(_ node: Node, _ path: String, what: String) -> String? {
        guard let written = nonEmptyString(node, path) else { return nil }
        let resolved = resolve(written)
        if case .failure(let problem) = readFile(resolved) {
            error(node, path, "\(what) '\(resolved)' \(problem)")
            return nil
        }
        return resolved
    }
}

/// Reads a file named in the config: its bytes, or why it cannot be used.
package typealias ConfigFileReader = (String) -> Result<[UInt8], FileProblem>

/// Why a file named in the config cannot be used.
package enum FileProblem: Error, CustomStringConvertible {
    case missing, directory, unreadable

    package var description: String {
        switch self {
        case .missing: return "does not exist"
        case .directory: return "is a directory"
        case .unreadable: return "cannot be read (permissions?)"
        }
    }
}

extension String {
    /// `path.key("x")`: `x` at the root, `a.x` below it.
    func key(_ name: String) -> String { isEmpty ? name : "\(self).\(name)" }
    /// `path.item(2)`: `path[2]`.
    func item(_ i: Int) -> String { "\(self)[\(i)]" }
}
