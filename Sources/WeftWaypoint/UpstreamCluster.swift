// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// Where the waypoint sends a request: one Service port, optionally narrowed to a DestinationRule subset, with
/// the DestinationRule settings in force there (Envoy's cluster `outbound|port|subset|host`).
public struct UpstreamCluster: Hashable, Sendable, CustomStringConvertible {
    public let service: MeshService
    public let port: UInt16
    /// The DestinationRule subset, if the route named one.
    public let subset: String?
    /// The subset's endpoint labels; empty: every endpoint of the Service.
    public let subsetLabels: [String: String]
    /// Load balancer, connection pool and outlier detection in force (DestinationRule top level → port →
    /// subset → subset port).
    public let settings: TrafficPolicy.Settings
    /// Envoy's cluster name, as access logs and `upstream_cluster` show it: `outbound|port|subset|host`.
    public let name: String

    public init(
        service: MeshService, port: UInt16, subset: String? = nil, subsetLabels: [String: String] = [:],
        settings: TrafficPolicy.Settings = .init()
    ) {
        self.service = service
        self.port = port
        self.subset = subset
        self.subsetLabels = subsetLabels
        self.settings = settings
        self.name = "outbound|\(port)|\(subset ?? "")|\(service.hostname)"
    }

    public var description: String { name }

    /// The endpoints of this cluster in `snapshot`: the Service's, filtered by the subset's labels.
    public func endpoints(in snapshot: MeshSnapshot) -> [Workload] {
        let all = snapshot.endpoints(of: service)
        guard !subsetLabels.isEmpty else { return all }
        return all.filter { workload in subsetLabels.allSatisfy { workload.labels[$0.key] == $0.value } }
    }
}
