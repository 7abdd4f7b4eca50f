// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// The AuthorizationPolicies of one snapshot, compiled and indexed for the node, and the evaluation of a
/// connection against them with Istio's semantics.
///
/// ## Overview
/// Build one per ``MeshSnapshot`` (``init(snapshot:)``) and share it; it is immutable and `Sendable`.
/// ``evaluate(_:)`` is the hot path: it returns a ``Decision`` without building strings. ``explain(_:)``
/// runs the same matching and also records, for every policy that applies, whether each rule matched and
/// why, for `weft explain` and debug logs.
///
/// ## Semantics (Istio, as ztunnel enforces it)
/// 1. `CUSTOM` and `AUDIT` policies are ignored by the node (reported by ``explain(_:)`` only), as are
///    dry-run policies and `targetRefs` policies (those belong to a waypoint: ``waypointPolicies``).
/// 2. Any matching DENY policy → deny.
/// 3. No ALLOW policy applies to the workload → allow.
/// 4. Any matching ALLOW policy → allow; otherwise deny.
///
/// A policy matches when any rule does; a policy without rules never matches (so `spec: {}`, an ALLOW with
/// no rules, denies everything it applies to) and an empty rule (`rules: [{}]`) always matches. Rules that
/// use attributes the node cannot see are projected as ztunnel does (see ``NodeEnforcement``).
///
/// ## Implementation
/// Policies are indexed by namespace; inside a namespace, selector policies are bucketed by one label pair
/// of their selector, so a connection only visits the policies of the root namespace and of the
/// destination's namespace whose selectors share a label with the destination. Matching is a loop over
/// precompiled fields (rule → clauses → groups → fields, ztunnel's structure). When several policies
/// match, the one reported is the first in `namespace/name` order, so decisions do not depend on hashing.
/// The waypoint (L7) has its own index, by `targetRefs` (``WaypointPolicySet``), and shares the compiled
/// match structure (compiled with HTTP fields instead of projecting them away) and the evaluation order.
public struct PolicySet: Sendable {
    /// Istio's root namespace: its policies without a selector apply to the whole mesh, and its selector
    /// policies to matching workloads of every namespace.
    public let rootNamespace: String
    /// Policies bound to a waypoint with `targetRefs`; the node never evaluates them (see ``WaypointPolicySet``).
    public let waypointPolicies: [AuthorizationPolicy]
    /// The node's policies sorted by `namespace/name`; indexes below point into it.
    let compiled: [CompiledPolicy]
    /// Policies of the root namespace.
    let meshWide: PolicyBucket
    /// Policies of every other namespace.
    let byNamespace: [String: PolicyBucket]

    /// Compiles and indexes `policies`.
    ///
    /// - Parameters:
    ///   - policies: Every AuthorizationPolicy of the snapshot, in any order.
    ///   - rootNamespace: Istio's root namespace (`istio-system` unless the mesh config says otherwise).
    public init(_ policies: [AuthorizationPolicy], rootNamespace: String = "istio-system") {
        self.rootNamespace = rootNamespace
        self.waypointPolicies = policies.filter(\.isWaypointBound)
        let nodePolicies = policies.filter { !$0.isWaypointBound }
            .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        self.compiled = nodePolicies.map { CompiledPolicy($0, for: .node) }
        var meshWide = PolicyBucket()
        var byNamespace: [String: PolicyBucket] = [:]
        for (index, policy) in nodePolicies.enumerated() {
            if policy.namespace == rootNamespace {
                meshWide.add(index, selector: policy.selector)
            } else {
                byNamespace[policy.namespace, default: PolicyBucket()].add(index, selector: policy.selector)
            }
        }
        self.meshWide = meshWide
        self.byNamespace = byNamespace
    }

    /// The policy set of a snapshot, with its root namespace.
    public init(snapshot: MeshSnapshot) {
        self.init(snapshot.authorizationPolicies, rootNamespace: snapshot.rootNamespace)
    }

    /// How many policies the node considers (everything but `targetRefs` policies).
    public var count: Int { compiled.count }

    /// Authorizes one connection.
    ///
    /// - Parameter facts: The connection, with its destination workload's namespace and labels.
    /// - Returns: The decision and what caused it.
    public func evaluate(_ facts: ConnectionFacts) -> Decision {
        var verdict = VerdictAccumulator()
        forEachCandidate(namespace: facts.destinationNamespace, labels: facts.destinationLabels) { index in
            let policy = compiled[index]
            guard policy.isEnforced else { return }
            verdict.consider(index, policy, facts)
        }
        let outcome = verdict.outcome(compiled)
        return Decision(verdict: outcome.verdict, cause: outcome.cause)
    }

    /// The policies that apply at the node to a workload, enforced or not (AUDIT, CUSTOM, dry-run), sorted
    /// by `namespace/name`.
    public func policies(applyingToNamespace namespace: String, labels: [String: String]) -> [AuthorizationPolicy] {
        candidateIndexes(namespace: namespace, labels: labels).map { compiled[$0].policy }
    }

    // MARK: - Candidates

    /// Calls `body` with the index of every policy that applies to a workload: the root namespace's
    /// namespace-wide and selecting policies, then the workload namespace's. Order is not sorted.
    @inline(__always)
    func forEachCandidate(namespace: String, labels: [String: String], _ body: (Int) -> Void) {
        meshWide.forEach(labels: labels, body)
        if namespace != rootNamespace, let bucket = byNamespace[namespace] {
            bucket.forEach(labels: labels, body)
        }
    }

    /// The candidates' indexes, sorted (so in `namespace/name` order).
    func candidateIndexes(namespace: String, labels: [String: String]) -> [Int] {
        var result: [Int] = []
        forEachCandidate(namespace: namespace, labels: labels) { result.append($0) }
        return result.sorted()
    }
}

/// The policies of one namespace: those without a selector, and selector policies bucketed by the
/// smallest label key of their selector (with its value), so only policies sharing a label with the
/// workload are checked. Each selector policy is in exactly one bucket, so none is visited twice.
struct PolicyBucket: Sendable {
    struct LabelPair: Hashable, Sendable {
        var key: String
        var value: String
    }

    struct SelectorEntry: Sendable {
        var index: Int
        var selector: LabelSelector
    }

    private(set) var namespaceWide: [Int] = []
    private(set) var bySelectorLabel: [LabelPair: [SelectorEntry]] = [:]

    mutating func add(_ index: Int, selector: LabelSelector?) {
        guard let selector, let key = selector.matchLabels.keys.min(), let value = selector.matchLabels[key] else {
            namespaceWide.append(index)
            return
        }
        let entry = SelectorEntry(index: index, selector: selector)
        bySelectorLabel[LabelPair(key: key, value: value), default: []].append(entry)
    }

    @inline(__always)
    func forEach(labels: [String: String], _ body: (Int) -> Void) {
        for index in namespaceWide { body(index) }
        guard !bySelectorLabel.isEmpty else { return }
        for (key, value) in labels {
            guard let entries = bySelectorLabel[LabelPair(key: key, value: value)] else { continue }
            for entry in entries where entry.selector.matches(labels) { body(entry.index) }
        }
    }
}
