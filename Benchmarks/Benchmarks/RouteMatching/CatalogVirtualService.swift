// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import BenchmarkSupport
import WeftRoute

/// One VirtualService `shop/catalog` with 1 000 `http` rules, in the kinds of ``RuleKind`` under
/// `/catalog/s<i>/`: 50 `uri` regexes, 200 `uri` exact + `method` GET, and prefixes with an `x-tenant` header,
/// a `version` query parameter, or (as the first of two `match` entries) an `x-canary` header regex. Every rule
/// has a timeout and a retry policy; the plain prefix rules split 90/10 between subsets `v1` and `v2`.
enum CatalogVirtualService {
    static let authority = "catalog.shop.svc.cluster.local:8080"

    static func make() -> VirtualServiceSpec {
        VirtualServiceSpec(
            namespace: "shop", name: "catalog", hosts: ["catalog"], http: (0..<RuleKind.ruleCount).map(rule),
            location: "routes/catalog.yaml:1")
    }

    static func rule(_ i: Int) -> VirtualServiceRule {
        let root = "/catalog/s\(i)/"
        let destination = VirtualServiceDestination(host: "catalog-\(i % 50)", port: 8080)
        var route = [VirtualServiceRule.RouteDestination(destination)]
        let matches: [VirtualServiceMatch]
        switch RuleKind(i) {
        case .regex:
            matches = [VirtualServiceMatch(uri: .regex("/catalog/s\(i)/items/[0-9]+"))]
        case .exact:
            matches = [VirtualServiceMatch(uri: .exact("\(root)status"), method: .exact("GET"))]
        case .tenantHeader:
            matches = [VirtualServiceMatch(uri: .prefix(root), headers: [.init("x-tenant", .exact("t\(i % 7)"))])]
        case .query:
            let version = VirtualServiceMatch.NamedMatch("version", .exact("v\(i % 3 + 1)"))
            matches = [VirtualServiceMatch(uri: .prefix(root), queryParams: [version])]
        case .canaryHeader:
            matches = [
                VirtualServiceMatch(uri: .prefix(root), headers: [.init("x-canary", .regex("true|yes|1"))]),
                VirtualServiceMatch(uri: .prefix("/legacy/s\(i)/")),
            ]
        case .prefix:
            matches = [VirtualServiceMatch(uri: .prefix(root))]
            route = ["v1", "v2"].map { subset in
                var destination = destination
                destination.subset = subset
                return VirtualServiceRule.RouteDestination(destination, weight: subset == "v1" ? 90 : 10)
            }
        }
        return VirtualServiceRule(
            name: "s\(i)", match: matches, route: route, timeout: .seconds(10),
            retries: .init(attempts: 2, perTryTimeout: .seconds(3), retryOn: "5xx,connect-failure"))
    }

    static func request(for i: Int) -> RouteRequest {
        RuleKind.request(for: i, base: "/catalog", segment: "s", authority: authority)
    }
}

/// Which request the VirtualServiceTable benchmark routes.
enum VirtualServiceScenario: CaseIterable {
    /// Rule 997 (a prefix and an `x-tenant` header), the 998th in list order: the scan tests 997 rules first,
    /// running the 50 `uri` regexes among them.
    case nearTheEnd
    /// A path under `/catalog/` that no rule matches: every rule, then 404.
    case miss

    var title: String {
        switch self {
        case .nearTheEnd: "hit near the end (rule 998)"
        case .miss: "miss (404)"
        }
    }

    var request: RouteRequest {
        switch self {
        case .nearTheEnd: CatalogVirtualService.request(for: 997)
        case .miss:
            RouteRequest(
                path: "/catalog/unknown/items", authority: CatalogVirtualService.authority,
                headers: RuleKind.commonHeaders)
        }
    }

    var expectedRule: Int? { self == .nearTheEnd ? 997 : nil }
}

/// The compiled ``CatalogVirtualService`` and one request to route.
struct VirtualServiceFixture: Sendable {
    let table: VirtualServiceTable
    let request: RouteRequest
    let expectedRule: Int?

    /// Compiles the VirtualService and checks that it compiled cleanly, that each of the 1 000 rules is selected
    /// by a request written for it, and the scenario's answer.
    init(_ scenario: VirtualServiceScenario) throws {
        table = VirtualServiceTable(CatalogVirtualService.make())
        guard table.errors.isEmpty, !table.isEmpty else {
            throw BenchmarkCheckFailed("VirtualService errors: \(table.errors.prefix(3).map(\.description))")
        }
        var generator = SplitMix64(seed: 1)
        for i in 0..<RuleKind.ruleCount {
            let selected = table.match(CatalogVirtualService.request(for: i), using: &generator)?.ruleIndex
            guard selected == i else {
                throw BenchmarkCheckFailed("the request for rule \(i) selected \(selected.map(String.init) ?? "404")")
            }
        }
        request = scenario.request
        expectedRule = scenario.expectedRule
        let selected = table.match(request, using: &generator)?.ruleIndex
        guard selected == expectedRule else {
            throw BenchmarkCheckFailed(
                "\(scenario): expected rule \(expectedRule.map(String.init) ?? "404"), got "
                    + (selected.map(String.init) ?? "404"))
        }
    }
}
