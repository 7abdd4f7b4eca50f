// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftConfig
import WeftModel
import WeftPolicy
import WeftRoute
import WeftWaypoint

/// Builds what a waypoint routes with from a loaded configuration: Gateway API routes, VirtualServices,
/// DestinationRules and the AuthorizationPolicies bound to the waypoint (its Gateway, from the workload's
/// `gateway.networking.k8s.io/gateway-name` label).
public enum WaypointConfiguration {
    /// Why a configuration cannot serve this waypoint.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The waypoint state for `workload` (`namespace/name`) from `result`.
    public static func state(from result: ManifestLoadResult, workload: String) throws(Failure) -> WaypointState {
        guard let snapshot = result.snapshot, !result.hasErrors else {
            throw Failure(description: "the configuration has \(result.errors.count) error(s); fix them ('weft check' shows them all)")
        }
        guard let gateway = WaypointDaemon.waypoint(of: workload, in: snapshot) else {
            throw Failure(
                description: "--workload \(workload) is not a waypoint's pod; label it gateway.networking.k8s.io/gateway-name: "
                    + "<name of a Gateway with gatewayClassName istio-waypoint in its namespace>"
            )
        }
        let routes = result.routes ?? MeshRoutes()
        let traffic = result.traffic ?? MeshTrafficPolicies()
        return WaypointState(
            snapshot: snapshot, policies: WaypointPolicySet(snapshot: snapshot, waypoint: gateway),
            routing: .init(
                httpRoutes: { routes.httpRouteTable(for: $0) }, grpcRoutes: { routes.grpcRouteTable(for: $0) },
                virtualServices: { traffic.virtualServiceTable(forHost: $0) },
                destinationRules: { traffic.destinationRule(forHost: $0) }, rateLimits: traffic.rateLimitTable
            ),
            gateway: (gateway.namespace, gateway.name)
        )
    }
}
