// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The ``LocalRateLimit``s of a configuration, indexed for the waypoint's per-request lookup.
///
/// A waypoint knows, for each request, its own Gateway, the Service (and port) the request was addressed
/// to, and the route that matched; ``limits(for:)`` returns every limit covering one of them, in the
/// order they are charged (see ``LocalRateLimit``): the route's rule, the whole route, the Service port,
/// the whole Service, the waypoint. Limits on one target are in policy `namespace/name` order, and a
/// policy's own entries keep their `targetRefs` order.
public struct LocalRateLimitTable: Sendable {
    /// What a waypoint knows about a request when it looks up its limits.
    public struct Request: Hashable, Sendable {
        /// The route a request matched, with the matched rule's `name`.
        public enum Route: Hashable, Sendable {
            /// An HTTPRoute and the `name` of its matched rule (`nil` when the rule has none).
            case httpRoute(namespace: String, name: String, rule: String?)
            /// A GRPCRoute and the `name` of its matched rule.
            case grpcRoute(namespace: String, name: String, rule: String?)
            /// A VirtualService and the `name` of its matched `http` rule.
            case virtualService(namespace: String, name: String, rule: String?)

            /// The HTTPRoute rule a ``RouteTable`` of HTTPRoutes selected.
            public init(http match: RouteMatch) {
                self = .httpRoute(namespace: match.route.namespace, name: match.route.name, rule: match.ruleName)
            }

            /// The GRPCRoute rule a ``RouteTable`` of GRPCRoutes selected.
            public init(grpc match: RouteMatch) {
                self = .grpcRoute(namespace: match.route.namespace, name: match.route.name, rule: match.ruleName)
            }

            /// The VirtualService rule a ``VirtualServiceTable`` selected.
            public init(_ selection: VirtualServiceSelection) {
                let parts = selection.virtualService.split(separator: "/", maxSplits: 1).map(String.init)
                let namespace = parts.count == 2 ? parts[0] : ""
                self = .virtualService(namespace: namespace, name: parts.last ?? "", rule: selection.ruleName)
            }

            /// The targets this route covers: the rule (when named), then the whole route.
            var targets: [LocalRateLimit.Target] {
                switch self {
                case .httpRoute(let namespace, let name, let rule):
                    return (rule.map { [.httpRoute(namespace: namespace, name: name, rule: $0)] } ?? [])
                        + [.httpRoute(namespace: namespace, name: name, rule: nil)]
                case .grpcRoute(let namespace, let name, let rule):
                    return (rule.map { [.grpcRoute(namespace: namespace, name: name, rule: $0)] } ?? [])
                        + [.grpcRoute(namespace: namespace, name: name, rule: nil)]
                case .virtualService(let namespace, let name, let rule):
                    return (rule.map { [.virtualService(namespace: namespace, name: name, rule: $0)] } ?? [])
                        + [.virtualService(namespace: namespace, name: name, rule: nil)]
                }
            }
        }

        /// The waypoint's own Gateway namespace.
        public var waypointNamespace: String
        /// The waypoint's own Gateway name.
        public var waypointName: String
        /// The Service port the request was addressed to; `nil` when it was addressed to a workload.
        public var service: RouteParent?
        /// The route that matched; `nil` when none did or no route applies.
        public var route: Route?

        /// Describes a request.
        ///
        /// - Parameters:
        ///   - waypointNamespace: The namespace of the waypoint's Gateway.
        ///   - waypointName: The name of the waypoint's Gateway.
        ///   - service: The Service port addressed, if any.
        ///   - route: The matched route and rule, if any.
        public init(waypointNamespace: String, waypointName: String, service: RouteParent? = nil, route: Route? = nil) {
            self.waypointNamespace = waypointNamespace
            self.waypointName = waypointName
            self.service = service
            self.route = route
        }

        /// Every target covering the request, most specific first.
        var targets: [LocalRateLimit.Target] {
            var result = route?.targets ?? []
            if let service {
                result.append(.service(namespace: service.namespace, name: service.name, port: service.port))
                result.append(.service(namespace: service.namespace, name: service.name, port: nil))
            }
            result.append(.waypoint(namespace: waypointNamespace, name: waypointName))
            return result
        }
    }

    /// Every limit, in the order given.
    public let limits: [LocalRateLimit]
    private let byTarget: [LocalRateLimit.Target: [LocalRateLimit]]

    /// Indexes `limits`. A limit repeated with the same ``LocalRateLimit/id`` is kept once.
    public init(_ limits: [LocalRateLimit] = []) {
        var seen: Set<LocalRateLimit.ID> = []
        let unique = limits.filter { seen.insert($0.id).inserted }
        self.limits = unique
        var byTarget: [LocalRateLimit.Target: [LocalRateLimit]] = [:]
        for index in unique.indices.sorted(by: { (unique[$0].key, $0) < (unique[$1].key, $1) }) {
            byTarget[unique[index].target, default: []].append(unique[index])
        }
        self.byTarget = byTarget
    }

    /// Whether there is no limit at all.
    public var isEmpty: Bool { limits.isEmpty }

    /// The limits a request must pass, in the order to charge them.
    public func limits(for request: Request) -> [LocalRateLimit] {
        guard !byTarget.isEmpty else { return [] }
        return request.targets.flatMap { byTarget[$0] ?? [] }
    }

    /// The limits on the waypoint `namespace/name` itself.
    public func limits(forWaypoint namespace: String, name: String) -> [LocalRateLimit] {
        byTarget[.waypoint(namespace: namespace, name: name)] ?? []
    }

    /// The limits on requests to port `port` of the Service `namespace/name`: those on that port, then
    /// those on the whole Service.
    public func limits(forService namespace: String, name: String, port: UInt16) -> [LocalRateLimit] {
        (byTarget[.service(namespace: namespace, name: name, port: port)] ?? [])
            + (byTarget[.service(namespace: namespace, name: name, port: nil)] ?? [])
    }

    /// The limits on requests that matched `route`: those on its rule, then those on the whole route.
    public func limits(forRoute route: Request.Route) -> [LocalRateLimit] {
        route.targets.flatMap { byTarget[$0] ?? [] }
    }
}
