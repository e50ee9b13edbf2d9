import GatewayConfig

/// Picks the route for a normalized path and method: the first configured route that matches wins.
///
/// A `path_prefix` matches on a segment boundary: `/api` matches `/api`, `/api/` and `/api/x`, never `/apix`;
/// a prefix ending in `/` (`/api/`, `/`) matches every path that starts with it. Matching is case-sensitive,
/// byte for byte, on the normalized path. A route whose `methods` list lacks the request's method does not
/// match and the search goes on; when nothing is left the answer is `404 no_route`.
///
/// `;` parameters are skipped when matching: each `;` up to the next `/` is left out, so `;` ends a segment name as
/// `/` does. Servlet containers drop them before mapping, so `/admin;x` and `/admin;x/users` reach `/admin` and
/// `/admin/users` there, and must meet the same routes here (`/admin` and `/admin/users`), not fall through to a
/// laxer `/`. Only matching skips them: the path is forwarded with its parameters, as normalized.
/// A literal `;` only: an escaped `%3B` is decoded by those containers after the parameters are dropped.
public struct Router: Sendable {
    private struct Entry: Sendable {
        var prefix: [UInt8]
        var endsWithSlash: Bool
        var methods: [String]?
    }

    private let entries: [Entry]

    public init(routes: [RouteConfig]) {
        entries = routes.map { route in
            // The config refuses `;` in a prefix; dropped here too, or such a prefix could never match a path whose
            // parameters are skipped.
            let bytes = Router.withoutParameters(Array(route.pathPrefix.utf8))
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

    /// True when `path`, with its `;` parameters skipped, starts with the entry's prefix on a segment boundary.
    private static func prefixMatches(_ entry: Entry, _ path: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        for expected in entry.prefix {
            if i < path.count && path[i] == UInt8(ascii: ";") { i = segmentEnd(path, from: i) }
            guard i < path.count, path[i] == expected else { return false }
            i += 1
        }
        if entry.endsWithSlash || i == path.count { return true }
        return path[i] == UInt8(ascii: "/") || path[i] == UInt8(ascii: ";")
    }

    /// Index of the `/` that ends the segment holding `from`, or `path.count`.
    private static func segmentEnd(_ path: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var i = from
        while i < path.count && path[i] != UInt8(ascii: "/") { i += 1 }
        return i
    }

    /// `bytes` with every `;` up to the next `/` left out.
    static func withoutParameters(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(UInt8(ascii: ";")) else { return bytes }
        var out: [UInt8] = []
        var skipping = false
        for b in bytes {
            if b == UInt8(ascii: ";") { skipping = true } else if b == UInt8(ascii: "/") { skipping = false }
            if !skipping { out.append(b) }
        }
        return out
    }
}
