// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftPolicy
import WeftRoute

/// The configuration a waypoint routes with: the mesh snapshot, the compiled Gateway API routes per Service port,
/// the VirtualServices and DestinationRules per host, the L7 AuthorizationPolicies and the local rate limits.
/// Swapped whole on reload.
public struct WaypointState: Sendable {
    /// How the waypoint finds the routing configuration of a request (WeftConfig's `MeshRoutes` and
    /// `MeshTrafficPolicies` build these once per configuration).
    public struct Routing: Sendable {
        /// The compiled HTTPRoutes of a Service port.
        public var httpRoutes: @Sendable (RouteParent) -> RouteTable?
        /// The compiled GRPCRoutes of a Service port (they win over HTTPRoutes on the same port).
        public var grpcRoutes: @Sendable (RouteParent) -> RouteTable?
        /// The compiled VirtualService for a Service hostname (`nil` when a Gateway API route is attached).
        public var virtualServices: @Sendable (String) -> VirtualServiceTable?
        /// The DestinationRule for a Service hostname.
        public var destinationRules: @Sendable (String) -> DestinationRuleSpec?
        /// The LocalRateLimitPolicies.
        public var rateLimits: LocalRateLimitTable

        public init(
            httpRoutes: @escaping @Sendable (RouteParent) -> RouteTable? = { _ in nil },
            grpcRoutes: @escaping @Sendable (RouteParent) -> RouteTable? = { _ in nil },
            virtualServices: @escaping @Sendable (String) -> VirtualServiceTable? = { _ in nil },
            destinationRules: @escaping @Sendable (String) -> DestinationRuleSpec? = { _ in nil },
            rateLimits: LocalRateLimitTable = LocalRateLimitTable()
        ) {
            self.httpRoutes = httpRoutes
            self.grpcRoutes = grpcRoutes
            self.virtualServices = virtualServices
            self.destinationRules = destinationRules
            self.rateLimits = rateLimits
        }
    }

    public let snapshot: MeshSnapshot
    /// The AuthorizationPolicies bound to this waypoint or to its Services (`targetRefs`); `nil`: none apply.
    public let policies: WaypointPolicySet?
    public let routing: Routing
    /// The waypoint's own Gateway (`namespace`, `name`), for the limits that target it.
    public let gateway: (namespace: String, name: String)?
    private let servicesByHost: [String: MeshService]

    public init(
        snapshot: MeshSnapshot, policies: WaypointPolicySet? = nil, routing: Routing = Routing(),
        gateway: (namespace: String, name: String)? = nil
    ) {
        self.snapshot = snapshot
        self.policies = policies
        self.routing = routing
        self.gateway = gateway
        var byHost: [String: MeshService] = [:]
        for service in snapshot.services where byHost[service.hostname.lowercased()] == nil {
            byHost[service.hostname.lowercased()] = service
        }
        self.servicesByHost = byHost
    }

    /// The Gateway API routes of a Service port and whether they are GRPCRoutes; `nil` when none is attached.
    public func routes(for parent: RouteParent) -> (table: RouteTable, isGRPC: Bool)? {
        if let table = routing.grpcRoutes(parent) { return (table, true) }
        if let table = routing.httpRoutes(parent) { return (table, false) }
        return nil
    }

    /// The Service with this VIP and the port the client dialled, if the VIP is a Service's.
    public func service(at destination: HostPort) -> (MeshService, ServicePort)? {
        guard let service = snapshot.servicesByVIP[destination.ip],
            let port = service.ports.first(where: { $0.port == destination.port })
        else { return nil }
        return (service, port)
    }

    /// A Service by namespace and name.
    public func service(namespace: String, name: String) -> MeshService? {
        snapshot.services.first { $0.namespace == namespace && $0.name == name }
    }

    /// A Service (or ServiceEntry) by its fully qualified hostname.
    public func service(hostname: String) -> MeshService? {
        servicesByHost[hostname.lowercased()]
    }
}
