// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import BenchmarkSupport
import WeftRoute

/// 100 HTTPRoutes of 10 rules each (1 000 rules, one match each), all attached to the Service port
/// `shop/api:8080` without hostnames, as GAMMA routes usually are. Route `api-routes-<r>` holds rules
/// `i = 10 r … 10 r + 9` and is older than route `r + 1`. Rules with a prefix match carry a 10 s request timeout.
enum GatewayRoutes {
    static let parent = RouteParent(namespace: "shop", name: "api", port: 8080)
    static let authority = "api.shop.svc.cluster.local:8080"
    static let routeCount = 100
    static let rulesPerRoute = 10

    static func make() -> [HTTPRouteSpec] {
        (0..<routeCount).map { r in
            HTTPRouteSpec(
                namespace: "shop", name: "api-routes-\(r)", location: "routes/api-routes-\(r).yaml:1",
                creationOrder: Int64(r),
                parentRefs: [HTTPRouteSpec.ParentReference(name: parent.name, port: parent.port)],
                rules: (0..<rulesPerRoute).map { rule(r * rulesPerRoute + $0) })
        }
    }

    static func rule(_ i: Int) -> HTTPRouteRule {
        let root = "/api/r\(i)"
        let backend = "backend-\(i % 50)"
        var backends = [HTTPBackendRef(service: backend, port: 8080)]
        let match: HTTPRouteMatch
        switch RuleKind(i) {
        case .regex:
            match = HTTPRouteMatch(path: .regularExpression("/api/v[0-9]+/r\(i)/items/[0-9]+"))
        case .exact:
            match = HTTPRouteMatch(path: .exact("\(root)/status"), method: .get)
        case .tenantHeader:
            match = HTTPRouteMatch(path: .pathPrefix(root), headers: [.init(name: "x-tenant", value: "t\(i % 7)")])
        case .query:
            match = HTTPRouteMatch(
                path: .pathPrefix(root), queryParams: [.init(name: "version", value: "v\(i % 3 + 1)")], method: .get)
        case .canaryHeader:
            match = HTTPRouteMatch(
                path: .pathPrefix(root), headers: [.init(.regularExpression, name: "x-canary", value: "true|yes|1")])
        case .prefix:
            match = HTTPRouteMatch(path: .pathPrefix(root))
            backends = [
                HTTPBackendRef(service: backend, port: 8080, weight: 90),
                HTTPBackendRef(service: "\(backend)-canary", port: 8080, weight: 10),
            ]
        }
        var timeouts: HTTPRouteRule.Timeouts?
        if case .pathPrefix = match.path { timeouts = HTTPRouteRule.Timeouts(request: .seconds(10)) }
        return HTTPRouteRule(name: "r\(i)", matches: [match], backendRefs: backends, timeouts: timeouts)
    }

    static func request(for i: Int) -> RouteRequest {
        RuleKind.request(for: i, base: "/api", segment: "r", authority: authority)
    }
}

/// Which request the RouteTable benchmark routes.
enum RouteScenario: CaseIterable {
    /// Rule 101 (an Exact path, the longest, of the oldest route with one): the first entry scanned.
    case firstEntry
    /// Rule 60, a path regex: regexes sort after every Exact and PathPrefix entry, shorter patterns after longer
    /// ones and older routes first, so it is entry 998 of 1 000; the scan runs 47 other regexes before it.
    case nearTheEnd
    /// A path under `/api/v2/` that no rule matches: all 1 000 entries, 50 regexes, then 404.
    case miss

    var title: String {
        switch self {
        case .firstEntry: "first entry (Exact path)"
        case .nearTheEnd: "hit near the end (regex, entry 998)"
        case .miss: "miss (404)"
        }
    }

    var request: RouteRequest {
        switch self {
        case .firstEntry: GatewayRoutes.request(for: 101)
        case .nearTheEnd: GatewayRoutes.request(for: 60)
        case .miss:
            RouteRequest(
                path: "/api/v2/unknown/items", authority: GatewayRoutes.authority, headers: RuleKind.commonHeaders)
        }
    }

    /// The rule that must answer, or `nil` for 404.
    var expectedRule: Int? {
        switch self {
        case .firstEntry: 101
        case .nearTheEnd: 60
        case .miss: nil
        }
    }
}

/// The compiled table of ``GatewayRoutes`` and one request to route.
struct RouteFixture: Sendable {
    let table: RouteTable
    let request: RouteRequest
    /// The rule's index in its route, or `nil` for 404.
    let expectedRuleIndex: Int?

    /// Compiles the routes and checks that every route compiled, that each of the 1 000 rules is selected by a
    /// request written for it (so every entry is live and distinct), and the scenario's answer.
    init(_ scenario: RouteScenario) throws {
        table = RouteTable(parent: GatewayRoutes.parent, routes: GatewayRoutes.make())
        guard table.errors.isEmpty, table.routes.count == GatewayRoutes.routeCount else {
            throw BenchmarkCheckFailed(
                "\(table.routes.count) routes compiled; errors: \(table.errors.prefix(3).map(\.description))")
        }
        for i in 0..<RuleKind.ruleCount {
            let selected = table.firstMatch(GatewayRoutes.request(for: i))
            guard let selected, Self.rule(selected) == i else {
                throw BenchmarkCheckFailed("the request for rule \(i) selected \(selected.map(\.description) ?? "404")")
            }
        }
        request = scenario.request
        expectedRuleIndex = scenario.expectedRule.map { $0 % GatewayRoutes.rulesPerRoute }
        let selected = table.firstMatch(request)
        guard selected.map(Self.rule) == scenario.expectedRule else {
            throw BenchmarkCheckFailed(
                "\(scenario): expected rule \(scenario.expectedRule.map(String.init) ?? "404"), got "
                    + (selected.map(\.description) ?? "404"))
        }
    }

    /// The generated rule number of a match: `10 r + rule index` for route `api-routes-<r>`.
    static func rule(_ match: RouteMatch) -> Int {
        let route = Int(match.route.name.dropFirst("api-routes-".count)) ?? -1
        return route * GatewayRoutes.rulesPerRoute + match.ruleIndex
    }
}
