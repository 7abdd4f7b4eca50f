// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// The Istio traffic configuration of a load: VirtualServices compiled per Service host, and the
/// DestinationRule of each host, for the waypoint. The sibling of ``MeshRoutes`` (Gateway API).
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
    private let tables: [String: VirtualServiceTable]
    private let rules: [String: DestinationRuleSpec]

    /// Creates an empty configuration.
    public init() {
        self.init(virtualServices: [], destinationRules: [], tables: [:], rules: [:])
    }

    init(
        virtualServices: [VirtualServiceSpec], destinationRules: [DestinationRuleSpec],
        tables: [String: VirtualServiceTable], rules: [String: DestinationRuleSpec]
    ) {
        self.virtualServices = virtualServices
        self.destinationRules = destinationRules
        self.tables = tables
        self.rules = rules
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
}
