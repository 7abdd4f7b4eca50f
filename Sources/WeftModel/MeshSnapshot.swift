// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Everything Weft knows about the mesh at one moment: namespaces, workloads and services, with the
/// indexes the data path needs. Immutable; a reload builds a new snapshot and swaps it in whole.
public struct MeshSnapshot: Sendable {
    public let trustDomain: String
    public let namespaces: [String: MeshNamespace]
    public let workloads: [Workload]
    public let services: [MeshService]
    /// PeerAuthentication policies, and the namespace whose selector-less policy is mesh-wide.
    public let peerAuthentications: [PeerAuthentication]
    /// AuthorizationPolicies in load order. The node evaluates them through WeftPolicy's `PolicySet`,
    /// built once per snapshot.
    public let authorizationPolicies: [AuthorizationPolicy]
    public let rootNamespace: String
    /// Waypoints (Gateways of class `istio-waypoint`), in load order.
    public let waypoints: [Waypoint]
    /// The waypoint each Service or ServiceEntry uses, by ``MeshService/uid``; services without one are absent.
    public let waypointsByService: [String: Waypoint]
    /// The waypoint each Pod or WorkloadEntry uses, by ``Workload/uid``; workloads without one are absent.
    public let waypointsByWorkload: [String: Waypoint]

    /// Workload by each of its addresses. Built once; duplicates are rejected by the loader before
    /// a snapshot is made, so the first one wins here.
    public let workloadsByIP: [IPAddress: Workload]
    /// Service by each of its VIPs.
    public let servicesByVIP: [IPAddress: MeshService]
    private let endpointIndex: EndpointIndex

    /// The same object for every copy of one snapshot and a different one for each snapshot built: a key for
    /// memos derived from a snapshot (compare with `===`; holding it keeps the identity from being reused).
    public var identity: AnyObject { endpointIndex }

    public init(
        trustDomain: String = "cluster.local",
        namespaces: [MeshNamespace] = [],
        workloads: [Workload] = [],
        services: [MeshService] = [],
        peerAuthentications: [PeerAuthentication] = [],
        authorizationPolicies: [AuthorizationPolicy] = [],
        rootNamespace: String = "istio-system",
        waypoints: [Waypoint] = [],
        waypointsByService: [String: Waypoint] = [:],
        waypointsByWorkload: [String: Waypoint] = [:]
    ) {
        self.waypoints = waypoints
        self.waypointsByService = waypointsByService
        self.waypointsByWorkload = waypointsByWorkload
        self.peerAuthentications = peerAuthentications
        self.authorizationPolicies = authorizationPolicies
        self.rootNamespace = rootNamespace
        self.trustDomain = trustDomain
        self.namespaces = Dictionary(namespaces.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.workloads = workloads
        self.services = services
        self.endpointIndex = EndpointIndex(workloads: workloads)
        var byIP: [IPAddress: Workload] = [:]
        for workload in workloads {
            for ip in workload.addresses where byIP[ip] == nil { byIP[ip] = workload }
        }
        for service in services {
            for endpoint in service.inlineEndpoints {
                for ip in endpoint.addresses where byIP[ip] == nil { byIP[ip] = endpoint }
            }
        }
        self.workloadsByIP = byIP
        var byVIP: [IPAddress: MeshService] = [:]
        for service in services {
            for vip in service.vips where byVIP[vip] == nil { byVIP[vip] = service }
        }
        self.servicesByVIP = byVIP
    }

    /// The workloads that run on a node.
    public func workloads(onNode node: String) -> [Workload] {
        workloads.filter { $0.node == node }
    }

    /// A service's endpoints: workloads in the service's namespace matching its selector (a
    /// ServiceEntry selects WorkloadEntries and pods the same way), plus inline ServiceEntry endpoints.
    public func endpoints(of service: MeshService) -> [Workload] {
        var result = service.inlineEndpoints
        if let selector = service.selector, !selector.matchLabels.isEmpty {
            result += endpointIndex.selected(by: service, selector: selector)
        }
        return result
    }

    /// The waypoint `namespace/name`, if the manifests declare it.
    public func waypoint(namespace: String, name: String) -> Waypoint? {
        waypoints.first { $0.namespace == namespace && $0.name == name }
    }

    /// The waypoint that traffic addressed to `service` (its VIP) goes through, or `nil` when it goes
    /// directly to an endpoint.
    ///
    /// The service's own `istio.io/use-waypoint` label wins over its namespace's (`none` opts out), and
    /// the waypoint must accept services (`istio.io/waypoint-for` `service` or `all`), as in Istio.
    public func waypoint(forService service: MeshService) -> Waypoint? {
        waypointsByService[service.uid]
    }

    /// The services whose traffic goes through `waypoint`, in load order.
    public func services(usingWaypoint waypoint: Waypoint) -> [MeshService] {
        services.filter { waypointsByService[$0.uid]?.key == waypoint.key }
    }

    /// The waypoint that traffic addressed to `workload`'s own IP goes through, or `nil`.
    ///
    /// The workload's own label wins over its namespace's (`none` opts out), and the waypoint must accept
    /// workloads (`istio.io/waypoint-for` `workload` or `all`). A waypoint's own workloads have none.
    public func waypoint(forWorkload workload: Workload) -> Waypoint? {
        waypointsByWorkload[workload.uid]
    }

    /// The identity of a workload in this snapshot's trust domain.
    public func identity(of workload: Workload) -> SPIFFEID {
        workload.identity(trustDomain: trustDomain)
    }
}
