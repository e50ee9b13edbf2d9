import GatewayAuth
import GatewayConfig
import GatewayCore
@testable import GatewayProxy

/// A verifier with canned outcomes, keyed by the whole `Authorization` value; anything else is malformed.
struct FakeVerifier: TokenChecking, Sendable {
    static let customer = TokenVerdict(clientId: "app-1", appIndex: 0, shopDomain: "store.myshopify.com",
                                       customerGID: "gid://shopify/Customer/123", customerNumericId: "123",
                                       staffUserId: nil, jti: "jti-1", expiresAt: 1_000, isAdmin: false, secretIndex: 0)
    static let anonymousBuyer = TokenVerdict(clientId: "app-1", appIndex: 0, shopDomain: "store.myshopify.com",
                                             customerGID: nil, customerNumericId: nil, staffUserId: nil, jti: "jti-2",
                                             expiresAt: 1_000, isAdmin: false, secretIndex: 0)
    static let staff = TokenVerdict(clientId: "app-1", appIndex: 0, shopDomain: "store.myshopify.com",
                                    customerGID: nil, customerNumericId: nil, staffUserId: "42", jti: "jti-3",
                                    expiresAt: 1_000, isAdmin: true, secretIndex: 0)

    /// A customer token of a second app, `app-2`.
    static let otherApp = TokenVerdict(clientId: "app-2", appIndex: 1, shopDomain: "store.myshopify.com",
                                       customerGID: "gid://shopify/Customer/123", customerNumericId: "123",
                                       staffUserId: nil, jti: "jti-4", expiresAt: 1_000, isAdmin: false, secretIndex: 0)

    /// `customer` with one claim changed.
    static func customer(shopDomain: String = "store.myshopify.com", jti: String? = "jti-1") -> TokenVerdict {
        TokenVerdict(clientId: "app-1", appIndex: 0, shopDomain: shopDomain, customerGID: "gid://shopify/Customer/123",
                     customerNumericId: "123", staffUserId: nil, jti: jti, expiresAt: 1_000, isAdmin: false, secretIndex: 0)
    }

    func verify(authorization: String) -> Result<TokenVerdict, AuthFailure> {
        switch authorization {
        case "Bearer customer": return .success(FakeVerifier.customer)
        case "Bearer buyer": return .success(FakeVerifier.anonymousBuyer)
        case "Bearer staff": return .success(FakeVerifier.staff)
        case "Bearer other-app": return .success(FakeVerifier.otherApp)
        case "Bearer nojti":
            return .success(FakeVerifier.customer(jti: nil))
        case "Bearer evil-shop":
            return .success(FakeVerifier.customer(shopDomain: "store.myshopify.com\r\nX-Admin: 1"))
        case "Bearer expired": return .failure(.tokenExpired)
        case "Bearer foreign-shop": return .failure(.shopNotAllowed)
        default: return .failure(.malformedToken)
        }
    }
}

enum Fixture {
    static func route(_ prefix: String, auth: AuthMode = .required, methods: [String]? = nil,
                      requireCustomer: Bool = false, replay: ReplayMode? = nil) -> RouteConfig {
        var r = RouteConfig(pathPrefix: prefix, upstream: "app", auth: auth)
        r.methods = methods
        r.requireCustomer = requireCustomer
        r.replay = replay
        return r
    }

    static func gate(_ routes: [RouteConfig], replay: ReplayMode = .off,
                     configure: (inout GatewayConfig) -> Void = { _ in }) -> RequestGate {
        var config = GatewayConfig()
        config.routes = routes
        config.replay.mode = replay
        configure(&config)
        return RequestGate(config: config, verifier: FakeVerifier())
    }

    static func head(_ method: String = "GET", _ target: String = "/", _ fields: [(String, String)] = [],
                     version: HTTPVersion = .http1_1, host: String? = "gw.example") -> HTTPRequestHead {
        var all = fields
        if let host { all.insert(("Host", host), at: 0) }
        return HTTPRequestHead(method: method, target: target, version: version, headers: HTTPHeaders(all),
                               authority: host)
    }

    static let client = ClientInfo(remoteAddress: "203.0.113.7", isTLS: false)
}

extension GateDecision {
    var plan: ForwardPlan? {
        if case .forward(let plan) = self { return plan }
        return nil
    }

    var answer: GatewayAnswer? {
        if case .answer(let a) = self { return a.answer }
        return nil
    }

    var answerOrigin: String? {
        if case .answer(let a) = self { return a.origin }
        return nil
    }

    var requestId: String {
        switch self {
        case .answer(let a): return a.requestId
        case .forward(let plan): return plan.requestId
        }
    }

    var routeIndex: Int? {
        switch self {
        case .answer(let a): return a.routeIndex
        case .forward(let plan): return plan.routeIndex
        }
    }
}

extension ForwardPlan {
    func values(_ name: String) -> [String] { head.headers.all(named: name) }
    func value(_ name: String) -> String? { head.headers.first(named: name) }
    var names: [String] { head.headers.pairs.map { $0.name.lowercased() } }
}

/// Counts calls through to `FakeVerifier`, to see which evaluations a token cache answered.
final class CountingVerifier: TokenChecking, @unchecked Sendable {
    private(set) var calls = 0
    func verify(authorization: String) -> Result<TokenVerdict, AuthFailure> {
        calls += 1
        return FakeVerifier().verify(authorization: authorization)
    }
}
