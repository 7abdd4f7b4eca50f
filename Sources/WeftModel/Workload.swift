// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A unit that runs application code and has a mesh identity: a Kubernetes Pod or an Istio WorkloadEntry.
public struct Workload: Hashable, Sendable {
    /// Where the workload was declared.
    public enum Kind: String, Hashable, Sendable {
        case pod = "Pod"
        case workloadEntry = "WorkloadEntry"
    }

    /// Stable key, `Kind/namespace/name`.
    public var uid: String { "\(kind.rawValue)/\(namespace)/\(name)" }
    public var kind: Kind
    public var name: String
    public var namespace: String
    public var labels: [String: String]
    public var annotations: [String: String]
    public var serviceAccount: String
    /// The node that runs this workload (`spec.nodeName`); `nil` for workloads outside any Weft node.
    public var node: String?
    /// The workload's addresses, primary first.
    public var addresses: [IPAddress]
    /// Load-balancing weight (WorkloadEntry `weight`); pods have weight 1.
    public var weight: UInt32
    /// Named ports the workload exposes (WorkloadEntry `ports`, pod container ports), used to resolve a
    /// Service's named `targetPort`.
    public var namedPorts: [String: UInt16]

    public init(
        kind: Kind,
        name: String,
        namespace: String,
        labels: [String: String] = [:],
        annotations: [String: String] = [:],
        serviceAccount: String = "default",
        node: String? = nil,
        addresses: [IPAddress],
        weight: UInt32 = 1,
        namedPorts: [String: UInt16] = [:]
    ) {
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.serviceAccount = serviceAccount
        self.node = node
        self.addresses = addresses
        self.weight = weight
        self.namedPorts = namedPorts
    }

    /// The workload's SPIFFE identity in a trust domain.
    public func identity(trustDomain: String) -> SPIFFEID {
        SPIFFEID(trustDomain: trustDomain, namespace: namespace, serviceAccount: serviceAccount)
    }
}

/// A Kubernetes Namespace; only its labels matter to Weft (`istio.io/dataplane-mode` and friends).
public struct MeshNamespace: Hashable, Sendable {
    public var name: String
    public var labels: [String: String]

    public init(name: String, labels: [String: String] = [:]) {
        self.name = name
        self.labels = labels
    }
}

/// A label selector in Kubernetes `matchLabels` form: every pair must be present. An empty selector
/// matches nothing when it comes from a Service (Kubernetes semantics: no endpoints are managed).
public struct LabelSelector: Hashable, Sendable {
    public var matchLabels: [String: String]

    public init(_ matchLabels: [String: String]) { self.matchLabels = matchLabels }

    public func matches(_ labels: [String: String]) -> Bool {
        matchLabels.allSatisfy { labels[$0.key] == $0.value }
    }
}
