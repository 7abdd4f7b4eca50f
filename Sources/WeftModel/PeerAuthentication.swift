// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Istio's `PeerAuthentication` (security.istio.io/v1): whether a workload accepts plaintext.
///
/// Scope, most specific first: a policy with a `selector` in the workload's namespace; a namespace-wide policy
/// (no selector); a mesh-wide policy (no selector, in the root namespace, `istio-system` by default); otherwise
/// PERMISSIVE. `UNSET` inherits from the next scope. Port-level modes apply only to selector policies, as in Istio.
public struct PeerAuthentication: Hashable, Sendable {
    public enum Mode: String, Hashable, Sendable {
        case unset = "UNSET"
        case permissive = "PERMISSIVE"
        case strict = "STRICT"
        /// Istio's DISABLE; at L4 it behaves as PERMISSIVE (plaintext accepted).
        case disable = "DISABLE"
    }

    public var name: String
    public var namespace: String
    public var selector: LabelSelector?
    public var mode: Mode
    /// `portLevelMtls`: target port → mode.
    public var portModes: [UInt16: Mode]

    public init(name: String, namespace: String, selector: LabelSelector? = nil, mode: Mode, portModes: [UInt16: Mode] = [:]) {
        self.name = name
        self.namespace = namespace
        self.selector = selector
        self.mode = mode
        self.portModes = portModes
    }

    /// The effective mode for plaintext arriving at `workload` on `port`.
    /// - Returns: the mode and the policy that decided it (`nil`: the default).
    public static func effectiveMode(
        for workload: Workload,
        port: UInt16,
        policies: [PeerAuthentication],
        rootNamespace: String
    ) -> (mode: Mode, policy: PeerAuthentication?) {
        // Oldest-name-first is Istio's tie-break for conflicting selector policies; names stand in for age here.
        let selectorPolicies = policies
            .filter { $0.namespace == workload.namespace && $0.selector.map { !$0.matchLabels.isEmpty && $0.matches(workload.labels) } == true }
            .sorted { $0.name < $1.name }
        if let policy = selectorPolicies.first {
            if let portMode = policy.portModes[port], portMode != .unset { return (portMode, policy) }
            if policy.mode != .unset { return (policy.mode, policy) }
        }
        let namespaceWide = policies.filter { $0.namespace == workload.namespace && ($0.selector?.matchLabels.isEmpty ?? true) }
            .sorted { $0.name < $1.name }
        if let policy = namespaceWide.first, policy.mode != .unset { return (policy.mode, policy) }
        let meshWide = policies.filter { $0.namespace == rootNamespace && ($0.selector?.matchLabels.isEmpty ?? true) }
            .sorted { $0.name < $1.name }
        if let policy = meshWide.first, policy.mode != .unset { return (policy.mode, policy) }
        return (.permissive, nil)
    }
}

/// Which of a node's workloads are captured in their own network namespace, following Istio's labels.
public enum Enrollment {
    /// The label that puts a namespace (or opts a pod) in or out of ambient mode.
    public static let dataplaneModeLabel = "istio.io/dataplane-mode"
    /// Weft's annotation naming a pod's network namespace: a name under /var/run/netns or an absolute path.
    public static let netnsAnnotation = "weft.dev/netns"

    /// Whether `workload` is in ambient mode: its namespace says `ambient` (or the pod itself does), and the pod
    /// has not opted out with `none`.
    public static func isAmbient(_ workload: Workload, in snapshot: MeshSnapshot) -> Bool {
        if let podMode = workload.labels[dataplaneModeLabel] {
            if podMode == "none" { return false }
            if podMode == "ambient" { return true }
        }
        return snapshot.namespaces[workload.namespace]?.labels[dataplaneModeLabel] == "ambient"
    }

    /// The network namespace a workload's annotation names, if any.
    public static func netns(of workload: Workload) -> String? {
        workload.annotations[netnsAnnotation].flatMap { $0.isEmpty ? nil : $0 }
    }
}
