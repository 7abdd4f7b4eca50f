// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// The Istio traffic configuration of a load: VirtualServices compiled per Service host, and the
/// DestinationRule of each host, for the waypoint; and Weft's LocalRateLimitPolicies, one ``LocalRateLimit``
/// per target, indexed in a ``LocalRateLimitTable``. The sibling of ``MeshRoutes`` (Gateway API).
///
/// A Service's VirtualService is the first one in load order whose `hosts` cover the Service's hostname
/// and that applies to the mesh (`gateways` empty or naming `mesh`). **A Service with an HTTPRoute or
/// GRPCRoute attached has no VirtualService table**: Gateway API routes take precedence, and the
/// loader warns that the VirtualService is ignored for it. A host's DestinationRule is the first in load
/// order whose `host` (short names resolved in its namespace) is that host.
public struct MeshTrafficPolicies: Sendable {
    /// Every VirtualService, in load order.
    public let virtualServices: [VirtualServiceSpec]
    /// Every DestinationRule, in load order.
    public let destinationRules: [DestinationRuleSpec]
    /// The local rate limits of every LocalRateLimitPolicy, one per target that exists in the manifests, in
    /// load order (then `targetRefs` order).
    public var rateLimits: [LocalRateLimit] { rateLimitTable.limits }
    /// The local rate limits indexed for the waypoint's per-request lookup.
    public let rateLimitTable: LocalRateLimitTable
    private let tables: [String: VirtualServiceTable]
    private let rules: [String: DestinationRuleSpec]

    /// Creates an empty configuration.
    public init() {
        self.init(virtualServices: [], destinationRules: [], tables: [:], rules: [:])
    }

    init(
        virtualServices: [VirtualServiceSpec], destinationRules: [DestinationRuleSpec],
        tables: [String: VirtualServiceTable], rules: [String: DestinationRuleSpec], rateLimits: [LocalRateLimit] = []
    ) {
        self.virtualServices = virtualServices
        self.destinationRules = destinationRules
        self.tables = tables
        self.rules = rules
        self.rateLimitTable = LocalRateLimitTable(rateLimits)
    }

    /// The hostnames of the Services with a VirtualService table, sorted.
    public var hostsWithVirtualService: [String] { tables.keys.sorted() }

    /// The compiled VirtualService table for a Service hostname (`reviews.shop.svc.cluster.local`), or
    /// `nil` when none applies (or an HTTPRoute takes precedence).
    public func virtualServiceTable(forHost host: String) -> VirtualServiceTable? { tables[host.lowercased()] }

    /// The compiled VirtualService table of the Service `namespace/name`.
    public func virtualServiceTable(namespace: String, service: String) -> VirtualServiceTable? {
        virtualServiceTable(forHost: "\(service).\(namespace).\(VirtualServiceDestination.clusterDomain)")
    }

    /// The DestinationRule for a fully qualified host, or `nil`.
    public func destinationRule(forHost host: String) -> DestinationRuleSpec? { rules[host.lowercased()] }

    /// The local rate limits a request must pass, in the order the waypoint charges them (see ``LocalRateLimit``).
    ///
    /// - Parameter request: The waypoint's Gateway, the Service port addressed and the matched route.
    public func rateLimits(for request: LocalRateLimitTable.Request) -> [LocalRateLimit] {
        rateLimitTable.limits(for: request)
    }

    /// The local rate limits on the waypoint (Gateway) `namespace/name`: every request through it.
    public func rateLimits(forWaypoint namespace: String, name: String) -> [LocalRateLimit] {
        rateLimitTable.limits(forWaypoint: namespace, name: name)
    }

    /// The local rate limits on requests to port `port` of the Service `namespace/name`: those on that port,
    /// then those on the whole Service.
    public func rateLimits(forService namespace: String, name: String, port: UInt16) -> [LocalRateLimit] {
        rateLimitTable.limits(forService: namespace, name: name, port: port)
    }

    /// The local rate limits on requests that matched `route`: those on its rule, then on the whole route.
    public func rateLimits(forRoute route: LocalRateLimitTable.Request.Route) -> [LocalRateLimit] {
        rateLimitTable.limits(forRoute: route)
    }
}
