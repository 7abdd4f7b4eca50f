// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A rule compiled for the hot path: backends with their validity decided, the weighted choice ready,
/// mirrors resolved. A final class so each match entry of the rule shares it by reference.
final class CompiledRule: Sendable {
    /// A backend as compiled: its resolved target, the resolver's verdict and its own filters.
    struct Backend: Sendable {
        let target: RouteBackend
        let status: BackendStatus
        let filters: [HTTPRouteFilter]
        let mirrors: [Mirror]
        /// The first filter of the backend the waypoint cannot apply, if any.
        let unsupportedFilter: String?
    }

    /// A mirror whose backend resolved.
    struct Mirror: Sendable {
        let filter: HTTPRouteFilter.RequestMirror
        let target: RouteBackend
    }

    let route: RouteReference
    let creationOrder: Int64
    let index: Int
    let name: String?
    let filters: [HTTPRouteFilter]
    let redirect: HTTPRouteFilter.RequestRedirect?
    let unsupportedFilter: String?
    let backends: [Backend]
    let choice: WeightedChoice
    let mirrors: [Mirror]
    let timeouts: HTTPRouteRule.Timeouts?
    let retry: HTTPRouteRule.Retry?

    init(
        route: RouteReference,
        creationOrder: Int64,
        index: Int,
        rule: HTTPRouteRule,
        backends: [Backend],
        mirrors: [Mirror]
    ) {
        self.route = route
        self.creationOrder = creationOrder
        self.index = index
        self.name = rule.name
        self.filters = rule.filters
        self.redirect =
            rule.filters.lazy.compactMap {
                if case .requestRedirect(let redirect) = $0 { return redirect } else { return nil }
            }.first
        self.unsupportedFilter =
            rule.filters.lazy.compactMap {
                if case .unsupported(let type) = $0 { return type } else { return nil }
            }.first
        self.backends = backends
        self.choice = WeightedChoice(weights: rule.backendRefs.map(\.weight))
        self.mirrors = mirrors
        self.timeouts = rule.timeouts
        self.retry = rule.retry
    }
}

/// One (hostname, rule, match) combination in precedence order: the unit ``RouteTable`` scans. A final
/// class so the scan retains one reference per entry instead of copying its matchers.
final class MatchEntry: Sendable {
    let hostname: HostnameMatcher
    /// Position of the hostname in `spec.hostnames` (0 without hostnames), the last tie-break.
    let hostnameIndex: Int
    let match: CompiledMatch
    let rule: CompiledRule

    init(hostname: HostnameMatcher, hostnameIndex: Int, match: CompiledMatch, rule: CompiledRule) {
        self.hostname = hostname
        self.hostnameIndex = hostnameIndex
        self.match = match
        self.rule = rule
    }

    /// Whether the request matches this entry's hostname and match.
    @inline(__always)
    func matches(_ bytes: RequestBytes, _ request: RouteRequest) -> Bool {
        hostname.matches(bytes.host) && match.matches(bytes, request)
    }

    /// Gateway API precedence (see ``RouteTable``): whether `self` is tried before `other`.
    func precedes(_ other: MatchEntry) -> Bool {
        if hostname.tier != other.hostname.tier { return hostname.tier > other.hostname.tier }
        if hostname.length != other.hostname.length { return hostname.length > other.hostname.length }
        if match.path.rank != other.match.path.rank { return match.path.rank > other.match.path.rank }
        if match.pathLength != other.match.pathLength { return match.pathLength > other.match.pathLength }
        if (match.method != nil) != (other.match.method != nil) { return match.method != nil }
        if match.headers.count != other.match.headers.count { return match.headers.count > other.match.headers.count }
        if match.queryParams.count != other.match.queryParams.count {
            return match.queryParams.count > other.match.queryParams.count
        }
        if rule.creationOrder != other.rule.creationOrder { return rule.creationOrder < other.rule.creationOrder }
        let key = rule.route.key
        let otherKey = other.rule.route.key
        if key != otherKey { return key.utf8.lexicographicallyPrecedes(otherKey.utf8) }
        if rule.index != other.rule.index { return rule.index < other.rule.index }
        if match.index != other.match.index { return (match.index ?? 0) < (other.match.index ?? 0) }
        return hostnameIndex < other.hostnameIndex
    }
}
