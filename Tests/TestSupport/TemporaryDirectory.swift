import Foundation

/// A fresh directory under the system temp dir that a fixture owns and deletes when it stops.
public final class TemporaryDirectory {
    public let path: String

    /// Creates `<tmp>/<prefix>XXXXXX` with mkdtemp, so concurrent test processes never share one.
    public init(prefix: String) throws {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)XXXXXX").path
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else {
            throw RedisServerProcess.Failure(description: "mkdtemp(\(template)) failed: errno \(errno)")
        }
        path = String(cString: made)
    }

    deinit { remove() }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
