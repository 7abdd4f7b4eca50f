// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftRoute

/// The Service port most tests route for.
let reviews = RouteParent(namespace: "shop", name: "reviews", port: 9080)

/// A route attached to `reviews` (or to `parent`), in `shop` unless told otherwise.
func route(
    _ name: String,
    namespace: String = "shop",
    order: Int64 = 0,
    parent: HTTPRouteSpec.ParentReference = .init(namespace: "shop", name: "reviews"),
    hostnames: [String] = [],
    _ rules: [HTTPRouteRule]
) -> HTTPRouteSpec {
    HTTPRouteSpec(
        namespace: namespace,
        name: name,
        location: "routes.yaml:1",
        creationOrder: order,
        parentRefs: [parent],
        hostnames: hostnames,
        rules: rules
    )
}

/// A rule forwarding to `backend` in `shop`.
func rule(_ matches: [HTTPRouteMatch] = [], to backend: String = "reviews-v1", filters: [HTTPRouteFilter] = [])
    -> HTTPRouteRule
{
    HTTPRouteRule(matches: matches, filters: filters, backendRefs: [HTTPBackendRef(service: backend, port: 9080)])
}

/// A request to `reviews` with headers given as pairs.
func request(
    _ path: String,
    method: String = "GET",
    authority: String = "reviews.shop:9080",
    headers: [(String, String)] = []
) -> RouteRequest {
    RouteRequest(
        method: method,
        path: path,
        authority: authority,
        headers: headers.map { HTTPHeaderField($0.0, $0.1) }
    )
}

/// `namespace/name rules[i]` of the rule a request selects in `table`, or `404`.
func selected(_ table: RouteTable, _ request: RouteRequest) -> String {
    guard let match = table.firstMatch(request) else { return "404" }
    return "\(match.route.key) rules[\(match.ruleIndex)]"
}

/// The backend name a rule forwards to, after a full selection with a fixed seed; `404` or the failure.
func backendName(_ table: RouteTable, _ request: RouteRequest, seed: UInt64 = 1) -> String {
    var generator = SplitMix64(seed: seed)
    guard let selection = table.match(request, using: &generator) else { return "404" }
    switch selection.outcome {
    case .forward(let backend): return backend.name
    case .redirect(let response): return "redirect \(response)"
    case .failure(let failure): return "500 \(failure)"
    }
}

/// A one-route table whose single rule has `match`; `true` when `request` selects it.
func matches(_ match: HTTPRouteMatch, _ request: RouteRequest) -> Bool {
    let table = RouteTable(parent: reviews, routes: [route("r", [rule([match])])])
    precondition(table.errors.isEmpty, "\(table.errors)")
    return table.firstMatch(request) != nil
}
