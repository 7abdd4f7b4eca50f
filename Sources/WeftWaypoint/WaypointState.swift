// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftPolicy
import WeftRoute

/// The configuration a waypoint routes with: the mesh snapshot and, per Service port, the compiled HTTPRoutes.
/// Swapped whole on reload.
public struct WaypointState: Sendable {
    public let snapshot: MeshSnapshot
    /// The AuthorizationPolicies bound to this waypoint or to its Services (`targetRefs`); `nil`: none apply.
    public let policies: WaypointPolicySet?
    private let tables: @Sendable (RouteParent) -> RouteTable?

    /// - Parameters:
    ///   - snapshot: The mesh.
    ///   - routeTable: The compiled HTTPRoutes of a Service port (WeftConfig's `MeshRoutes` builds them once per
    ///     configuration); `nil` when no route is attached.
    ///   - policies: The L7 AuthorizationPolicies for this waypoint.
    public init(
        snapshot: MeshSnapshot, policies: WaypointPolicySet? = nil,
        routeTable: @escaping @Sendable (RouteParent) -> RouteTable?
    ) {
        self.snapshot = snapshot
        self.policies = policies
        self.tables = routeTable
    }

    /// The routes of a Service port; `nil` when none is attached (the waypoint then forwards to the Service itself).
    public func routes(for parent: RouteParent) -> RouteTable? {
        tables(parent)
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
}
