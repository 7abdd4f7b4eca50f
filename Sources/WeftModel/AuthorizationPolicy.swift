// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Istio's `AuthorizationPolicy` (security.istio.io/v1, also v1beta1) as data: who may reach which workloads.
///
/// The model keeps every field Istio defines, HTTP ones included, exactly as written (after validation), so
/// the node (L4) and a future waypoint (L7) can each project it to what they enforce. Evaluation lives in
/// WeftPolicy; this type only says what the policy is and where it came from.
///
/// Scope, following Istio: a policy without `selector` and `targetRefs` applies to every workload of its
/// namespace, or of the whole mesh when it is in the root namespace (`istio-system` by default); a
/// `selector` policy applies to the workloads whose labels it matches, in its namespace or, in the root
/// namespace, in every namespace; a `targetRefs` policy binds to a waypoint (Gateway, Service, …) and is
/// ignored by the node, as ztunnel ignores it.
public struct AuthorizationPolicy: Hashable, Sendable {
    /// `spec.action`. Istio's default is `ALLOW`.
    public enum Action: String, Hashable, Sendable, CaseIterable {
        case allow = "ALLOW"
        case deny = "DENY"
        /// Logging only; never changes a decision (and the node ignores it, as ztunnel does).
        case audit = "AUDIT"
        /// Delegation to an external authorizer (`provider`); enforced only by a waypoint or sidecar.
        case custom = "CUSTOM"
    }

    /// Which workloads the policy is about.
    public enum Scope: Hashable, Sendable {
        /// No selector and no targetRefs: the whole namespace (the whole mesh in the root namespace).
        case namespace
        /// `selector.matchLabels`: the matching workloads of the namespace (of every namespace in the root
        /// namespace). Never empty; an empty selector is read as ``namespace``.
        case selector(LabelSelector)
        /// `targetRefs` (or the older singular `targetRef`): a waypoint attachment, kept for the waypoint.
        case targetRefs([TargetReference])
    }

    /// One entry of `spec.targetRefs`.
    public struct TargetReference: Hashable, Sendable, CustomStringConvertible {
        /// API group; `""` for the core group (Service).
        public var group: String
        /// `Gateway`, `GatewayClass`, `Service` or `ServiceEntry`.
        public var kind: String
        /// The target's name, in the policy's namespace.
        public var name: String

        /// Creates a target reference; `group` is `""` for the core group.
        public init(group: String, kind: String, name: String) {
            self.group = group
            self.kind = kind
            self.name = name
        }

        /// `Kind/name`, with the group when it is not the core group: `Gateway.gateway.networking.k8s.io/name`.
        public var description: String { group.isEmpty ? "\(kind)/\(name)" : "\(kind).\(group)/\(name)" }
    }

    /// `metadata.name`.
    public var name: String
    /// `metadata.namespace`.
    public var namespace: String
    /// Where the policy was declared, for logs and `weft explain`; `nil` for policies built in code.
    public var location: ManifestLocation?
    /// Which workloads the policy is about.
    public var scope: Scope
    /// `spec.action`.
    public var action: Action
    /// `spec.provider.name`, set only for ``Action/custom``.
    public var provider: String?
    /// `spec.rules`, each carrying its index in the manifest. Empty means the policy matches nothing:
    /// an ALLOW policy without rules denies everything it applies to (`spec: {}`, "allow-nothing").
    public var rules: [Rule]
    /// The `istio.io/dry-run: "true"` annotation: evaluated and reported, never enforced.
    public var dryRun: Bool

    /// Creates a policy; the defaults are those of `spec: {}` (a namespace-wide ALLOW without rules).
    public init(
        name: String,
        namespace: String,
        location: ManifestLocation? = nil,
        scope: Scope = .namespace,
        action: Action = .allow,
        provider: String? = nil,
        rules: [Rule] = [],
        dryRun: Bool = false
    ) {
        self.name = name
        self.namespace = namespace
        self.location = location
        self.scope = scope
        self.action = action
        self.provider = provider
        self.rules = rules
        self.dryRun = dryRun
    }

    /// `namespace/name`, the form Istio and ztunnel use in logs.
    public var key: String { "\(namespace)/\(name)" }

    /// The selector, when the scope is one.
    public var selector: LabelSelector? {
        if case .selector(let selector) = scope { return selector }
        return nil
    }

    /// Whether the policy binds to a waypoint through `targetRefs` (and so is not the node's business).
    public var isWaypointBound: Bool {
        if case .targetRefs = scope { return true }
        return false
    }

    /// Whether the policy applies to `workload` at the node: not `targetRefs`-bound, in the workload's
    /// namespace or the root namespace, and selecting it when it has a selector. Says nothing about the action.
    public func applies(to workload: Workload, rootNamespace: String) -> Bool {
        applies(toNamespace: workload.namespace, labels: workload.labels, rootNamespace: rootNamespace)
    }

    /// ``applies(to:rootNamespace:)`` for a workload given by its namespace and labels.
    public func applies(
        toNamespace workloadNamespace: String, labels: [String: String], rootNamespace: String
    ) -> Bool {
        guard namespace == workloadNamespace || namespace == rootNamespace else { return false }
        switch scope {
        case .namespace: return true
        case .selector(let selector): return selector.matches(labels)
        case .targetRefs: return false
        }
    }
}
