import GatewayConfig
import Testing
@testable import GatewayProxy

@Suite struct RouterTests {
    private func route(_ prefix: String, methods: [String]? = nil) -> RouteConfig {
        var r = RouteConfig(pathPrefix: prefix, upstream: "app")
        r.methods = methods
        return r
    }

    @Test func firstMatchWins() {
        let router = Router(routes: [route("/api"), route("/api/v2"), route("/")])
        #expect(router.match(path: "/api/v2/x", method: "GET") == 0)
        #expect(router.match(path: "/other", method: "GET") == 2)
    }

    @Test func prefixMatchesOnSegmentBoundary() {
        let router = Router(routes: [route("/api")])
        #expect(router.match(path: "/api", method: "GET") == 0)
        #expect(router.match(path: "/api/", method: "GET") == 0)
        #expect(router.match(path: "/api/x", method: "GET") == 0)
        #expect(router.match(path: "/apix", method: "GET") == nil)
        #expect(router.match(path: "/ap", method: "GET") == nil)
        #expect(router.match(path: "/API", method: "GET") == nil)
    }

    @Test func prefixEndingInSlashIsPlainPrefix() {
        let router = Router(routes: [route("/api/")])
        #expect(router.match(path: "/api/x", method: "GET") == 0)
        #expect(router.match(path: "/api/", method: "GET") == 0)
        #expect(router.match(path: "/api", method: "GET") == nil)
        let root = Router(routes: [route("/")])
        #expect(root.match(path: "/", method: "GET") == 0)
        #expect(root.match(path: "//x", method: "DELETE") == 0)
    }

    @Test func methodsFilterFallsThrough() {
        let router = Router(routes: [route("/a", methods: ["GET", "HEAD"]), route("/a", methods: ["POST"])])
        #expect(router.match(path: "/a", method: "GET") == 0)
        #expect(router.match(path: "/a", method: "POST") == 1)
        #expect(router.match(path: "/a", method: "PUT") == nil)
        #expect(router.match(path: "/a", method: "get") == nil)
        #expect(router.matchIgnoringMethods(path: "/a/b") == 0)
    }

    @Test func noRoutesMatchesNothing() {
        #expect(Router(routes: []).match(path: "/", method: "GET") == nil)
    }
}
