import GatewayConfig
import Testing

/// `routes[].apps` and `identity_headers.client_id`: parsed values, defaults, and each error with its line:col.
@Suite struct RouteAppsConfigTests {
    static let twoApps = """
    apps:
      - client_id: app-1
        secrets: [{env: SECRET}]
      - client_id: app-2
        secrets: [{env: SECRET}]
    upstreams: [{name: app, servers: ["127.0.0.1:1"]}]

    """

    @Test func appsRestrictARouteAndDefaultToEveryApp() throws {
        let yaml = Self.twoApps + """
        routes:
          - {path_prefix: /two, upstream: app, apps: [app-2]}
          - {path_prefix: /opt, upstream: app, auth: optional, apps: [app-1, app-2]}
          - {path_prefix: /, upstream: app}
        """
        let report = parse(yaml)
        #expect(report.issues.isEmpty, "\(report.issues)")
        let config = try #require(report.config)
        #expect(config.routes.map(\.apps) == [["app-2"], ["app-1", "app-2"], nil])
        #expect(config.summary().contains("/two [any method] -> app, auth required, replay single-use, apps app-2"))
    }

    @Test func appsEntriesMustNameConfiguredAppsOnceInANonEmptyList() {
        let yaml = Self.twoApps + """
        routes:
          - {path_prefix: /a, upstream: app, apps: [app-2, nope]}
          - {path_prefix: /b, upstream: app, apps: []}
          - {path_prefix: /c, upstream: app, apps: [app-1, gone, app-1, gone]}
          - {path_prefix: /d, upstream: app, apps: app-1}
          - {path_prefix: /e, upstream: app, apps: [app-1, ""]}
        """
        #expect(errors(yaml) == [
            "gateway.yaml:8:52: routes[0].apps[1]: 'nope' names no app under apps (known: app-1, app-2)",
            "gateway.yaml:9:44: routes[1].apps: needs at least one client_id (omit apps to let every app through)",
            // Reported although the list is refused for its duplicates, and once however often it is listed.
            "gateway.yaml:10:52: routes[2].apps[1]: 'gone' names no app under apps (known: app-1, app-2)",
            "gateway.yaml:10:58: routes[2].apps[2]: duplicate app 'app-1' (also routes[2].apps[0])",
            "gateway.yaml:10:65: routes[2].apps[3]: duplicate app 'gone' (also routes[2].apps[1])",
            "gateway.yaml:11:44: routes[3].apps: expected a list, found 'app-1'",
            "gateway.yaml:12:52: routes[4].apps[1]: must not be empty",
        ])
    }

    /// A route that checks no token has no app to restrict: `apps` there is a mistake, not a no-op.
    @Test func appsOnAnAuthNoneRouteIsAnError() {
        let yaml = Self.twoApps + """
        routes:
          - path_prefix: /public
            auth: none
            apps: [app-1]
            upstream: app
        """
        #expect(errors(yaml) == ["gateway.yaml:10:5: routes[0].apps: has nothing to restrict with auth none (no token is checked)"])
    }

    @Test func unknownAppsAreNotReportedWhileTheAppsSectionHasErrors() {
        let yaml = """
        apps:
          - client_id: app-1
        upstreams: [{name: app, servers: ["127.0.0.1:1"]}]
        routes: [{path_prefix: /, upstream: app, apps: [app-1]}]
        """
        #expect(errors(yaml) == ["gateway.yaml:2:5: apps[0].secrets: missing required key 'secrets'"])
        let none = """
        upstreams: [{name: app, servers: ["127.0.0.1:1"]}]
        routes: [{path_prefix: /, upstream: app, apps: [app-1]}]
        """
        #expect(errors(none) == [
            "gateway.yaml:2:10: routes[0].auth: auth required needs at least one app under apps",
            "gateway.yaml:2:49: routes[0].apps[0]: 'app-1' names no app under apps (no apps are configured)",
        ])
    }

    @Test func clientIdHeaderIsOffByDefaultAndTakesAHeaderName() throws {
        let off = try #require(parse(minimalYAML).config)
        #expect(off.identityHeaders.clientId == "")
        #expect(!off.summary().contains("client_id"))
        let empty = try #require(parse(minimalYAML + "\nidentity_headers: {client_id: \"\"}").config)
        #expect(empty.identityHeaders.clientId == "")
        let on = try #require(parse(minimalYAML + "\nidentity_headers: {client_id: X-Shopify-Client-Id}").config)
        #expect(on.identityHeaders.clientId == "X-Shopify-Client-Id")
        #expect(on.summary().contains("X-Staff-User-Id, client_id X-Shopify-Client-Id, forward_token true"))
    }

    @Test func clientIdHeaderFollowsTheIdentityHeaderRules() {
        let base = minimalYAML + "\nidentity_headers:\n"
        #expect(errors(base + "  client_id: \"X Client\"") == [
            "gateway.yaml:11:14: identity_headers.client_id: 'X Client' is not a valid header name",
        ])
        #expect(errors(base + "  client_id: true") == [
            "gateway.yaml:11:14: identity_headers.client_id: expected a string, found the boolean true (quote it if it is meant as text)",
        ])
        // The same header as another identity header, in any case and with `_` for `-`, would be injected twice.
        #expect(errors(base + "  client_id: x_shop_domain") == [
            "gateway.yaml:11:14: identity_headers.client_id: 'x_shop_domain' must differ from shop_domain, customer_id and staff_user_id",
        ])
        #expect(errors(base + "  staff_user_id: X-App\n  client_id: x-app") == [
            "gateway.yaml:12:14: identity_headers.client_id: 'x-app' must differ from shop_domain, customer_id and staff_user_id",
        ])
    }

    /// Client ids are injected as header values once the header is on, so they must fit one.
    @Test func clientIdsMustBeVisibleASCIIWhenTheHeaderIsOn() {
        let yaml = """
        apps:
          - client_id: "app one"
            secrets: [{env: SECRET}]
        upstreams: [{name: app, servers: ["127.0.0.1:1"]}]
        routes: [{path_prefix: /, upstream: app}]
        """
        #expect(errors(yaml).isEmpty)
        #expect(errors(yaml + "\nidentity_headers: {client_id: X-Client-Id}") == [
            "gateway.yaml:2:16: apps[0].client_id: 'app one' cannot be sent in identity_headers.client_id: only visible ASCII (no spaces) fits a header value",
        ])
    }
}
