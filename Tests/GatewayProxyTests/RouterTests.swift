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

    /// Servlet containers drop `;` parameters before mapping, so `/admin;x` is `/admin` to them.
    @Test func semicolonEndsASegmentName() {
        let router = Router(routes: [route("/admin"), route("/")])
        #expect(router.match(path: "/admin;x", method: "GET") == 0)
        #expect(router.match(path: "/admin;", method: "GET") == 0)
        #expect(router.match(path: "/admin;x/users", method: "GET") == 0)
        #expect(router.match(path: "/admin/;x", method: "GET") == 0)
        #expect(router.match(path: "/adminx;y", method: "GET") == 1)
        #expect(router.match(path: "/adm;in", method: "GET") == 1)
        #expect(router.match(path: "/;x/admin", method: "GET") == 1)
        #expect(router.matchIgnoringMethods(path: "/admin;x") == 0)
    }

    /// Parameters anywhere in the path cannot steer a request past the more specific route, from either side of it.
    @Test func semicolonCannotSlipPastAMoreSpecificRoute() {
        let router = Router(routes: [route("/admin/users"), route("/admin"), route("/api/"), route("/")])
        #expect(router.match(path: "/admin;x/users", method: "GET") == 0)
        #expect(router.match(path: "/admin;x/users;y", method: "GET") == 0)
        #expect(router.match(path: "/admin;a;b/users/1", method: "GET") == 0)
        #expect(router.match(path: "/admin/users;y/1", method: "GET") == 0)
        #expect(router.match(path: "/admin;x/usersx", method: "GET") == 1)
        #expect(router.match(path: "/admin;x/other", method: "GET") == 1)
        #expect(router.match(path: "/api;x/", method: "GET") == 2)
        #expect(router.match(path: "/api;x/v1", method: "GET") == 2)
        #expect(router.match(path: "/api;x", method: "GET") == 3)
    }

    /// An escaped `;` is decoded by servlet containers only after the parameters are dropped: a plain byte here.
    @Test func escapedSemicolonIsNotASegmentEnd() {
        let router = Router(routes: [route("/admin"), route("/")])
        #expect(router.match(path: "/admin%3Bx", method: "GET") == 1)
    }

    @Test func prefixParametersAreIgnoredToo() {
        let router = Router(routes: [route("/a;p/b")])
        #expect(router.match(path: "/a/b", method: "GET") == 0)
        #expect(router.match(path: "/a;q/b/c", method: "GET") == 0)
        #expect(Router.withoutParameters(Array("/a;p/b;q".utf8)) == Array("/a/b".utf8))
    }

    @Test func noRoutesMatchesNothing() {
        #expect(Router(routes: []).match(path: "/", method: "GET") == nil)
    }
}
