// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftRoute

/// What the waypoint does with one request, decided before any I/O by ``RequestPlanner``: forward it to a
/// cluster (with the rewritten request, timeouts, retries, mirrors and an injected delay) or answer it locally.
struct RequestPlan: Sendable {
    /// A response the waypoint writes itself.
    struct LocalAnswer: Error, Equatable {
        var status: Int
        /// Envoy response flag: `NR`, `FI`, `-`…
        var flag: String
        /// Envoy `%RESPONSE_CODE_DETAILS%`.
        var details: String
        var body: String
        var headers: [HTTPHeaderField] = []
    }

    enum Action: Sendable {
        case forward(UpstreamCluster)
        case respond(LocalAnswer)
    }

    /// The response-side header operations of the route that matched.
    enum ResponseOperations: Sendable {
        case none
        case httpRoute(RouteSelection)
        case virtualService(VirtualServiceSelection)

        func apply(to headers: inout [HTTPHeaderField]) {
            switch self {
            case .none: break
            case .httpRoute(let selection): selection.applyResponseFilters(to: &headers)
            case .virtualService(let selection): selection.applyResponseOperations(to: &headers)
            }
        }

        var isNone: Bool {
            if case .none = self { return true }
            return false
        }
    }

    /// The route a request matched, as rate limits and logs name it.
    struct MatchedRoute: Sendable, Equatable {
        enum Kind: String, Sendable { case httpRoute = "HTTPRoute", grpcRoute = "GRPCRoute", virtualService = "VirtualService" }
        var kind: Kind
        /// `namespace/name`.
        var key: String
        var ruleIndex: Int
        var ruleName: String?
        var description: String { "\(kind.rawValue) \(key) rule \(ruleName ?? "\(ruleIndex)")" }

        /// The route as rate limits name it.
        var rateLimitRoute: LocalRateLimitTable.Request.Route {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            let (namespace, name) = parts.count == 2 ? (parts[0], parts[1]) : ("", key)
            switch kind {
            case .httpRoute: return .httpRoute(namespace: namespace, name: name, rule: ruleName)
            case .grpcRoute: return .grpcRoute(namespace: namespace, name: name, rule: ruleName)
            case .virtualService: return .virtualService(namespace: namespace, name: name, rule: ruleName)
            }
        }
    }

    var action: Action
    /// The request as it goes upstream (filters and rewrites applied).
    var request: RouteRequest
    /// The path before a rewrite changed it.
    var originalPath: String?
    var route: MatchedRoute?
    var response: ResponseOperations = .none
    var mirrors: [UpstreamCluster] = []
    /// The whole-request timeout, every try and back-off included.
    var timeout: Duration?
    /// The retry policy; `nil`: no retries (fault injection, redirects).
    var retry: RetryPolicy?
    /// Fault injection: wait this long first (flag `DI`).
    var delay: Duration?
    /// Fault injection: the answer (after the delay) is an injected abort (flag `FI`), instead of forwarding.
    var isFaultAbort: Bool {
        if case .respond(let answer) = action { return answer.flag == "FI" }
        return false
    }
}
