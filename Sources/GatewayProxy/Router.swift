import GatewayConfig

/// Picks the route for a normalized path and method: the first configured route that matches wins.
///
/// A `path_prefix` matches on a segment boundary: `/api` matches `/api`, `/api/` and `/api/x`, never `/apix`;
/// a prefix ending in `/` (`/api/`, `/`) matches every path that starts with it. Matching is case-sensitive,
/// byte for byte, on the normalized path. A route whose `methods` list lacks the request's method does not
/// match and the search goes on; when nothing is left the answer is `404 no_route`.
public struct Router: Sendable {
    private struct Entry: Sendable {
        var prefix: [UInt8]
        var endsWithSlash: Bool
        var methods: [String]?
    }

    private let entries: [Entry]

    public init(routes: [RouteConfig]) {
        entries = routes.map { route in
            let bytes = Array(route.pathPrefix.utf8)
            return Entry(prefix: bytes, endsWithSlash: bytes.last == UInt8(ascii: "/"), methods: route.methods)
        }
    }

    /// Index of the first route matching `path` and `method`; nil means no route.
    public func match(path: String, method: String) -> Int? {
        match(path: path, method: Optional(method))
    }

    /// Index of the first route whose prefix matches `path`, whatever its methods (used for CORS preflights).
    public func matchIgnoringMethods(path: String) -> Int? {
        match(path: path, method: nil)
    }

    private func match(path: String, method: String?) -> Int? {
        return path.utf8.span.withUnsafeBufferPointer { p in
            for (index, entry) in entries.enumerated() where Router.prefixMatches(entry, p) {
                if let method, let methods = entry.methods, !methods.contains(method) { continue }
                return index
            }
            return nil
        }
    }

    private static func prefixMatches(_ entry: Entry, _ path: UnsafeBufferPointer<UInt8>) -> Bool {
        let prefix = entry.prefix
        guard path.count >= prefix.count else { return false }
        for k in prefix.indices where path[k] != prefix[k] { return false }
        if entry.endsWithSlash || path.count == prefix.count { return true }
        return path[prefix.count] == UInt8(ascii: "/")
    }
}
