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

    /// Workload by each of its addresses. Built once; duplicates are rejected by the loader before
    /// a snapshot is made, so the first one wins here.
    public let workloadsByIP: [IPAddress: Workload]
    /// Service by each of its VIPs.
    public let servicesByVIP: [IPAddress: MeshService]

    public init(
        trustDomain: String = "cluster.local",
        namespaces: [MeshNamespace] = [],
        workloads: [Workload] = [],
        services: [MeshService] = [],
        peerAuthentications: [PeerAuthentication] = [],
        authorizationPolicies: [AuthorizationPolicy] = [],
        rootNamespace: String = "istio-system"
    ) {
        self.peerAuthentications = peerAuthentications
        self.authorizationPolicies = authorizationPolicies
        self.rootNamespace = rootNamespace
        self.trustDomain = trustDomain
        self.namespaces = Dictionary(namespaces.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.workloads = workloads
        self.services = services
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
            result += workloads.filter { $0.namespace == service.namespace && selector.matches($0.labels) }
        }
        return result
    }

    /// The identity of a workload in this snapshot's trust domain.
    public func identity(of workload: Workload) -> SPIFFEID {
        workload.identity(trustDomain: trustDomain)
    }
}
