// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// One `from` entry, `to` entry or `when` condition as the node or the waypoint matches it: every field
/// must match. A group without fields matches nothing, as ztunnel skips empty matches; this is how a DENY
/// entry that only had waypoint-only fields stops matching at the node (at the waypoint, only an entry the
/// loader would have rejected, such as an empty `source: {}` or an unknown `when` key, has no fields).
///
/// The compiled structure is made of final classes so the evaluation loops retain one reference per
/// element rather than copying each element's arrays and strings.
final class MatchGroup: Sendable {
    /// `from[0]`, `to[1]`, `when[2]`.
    let name: String
    let fields: [FieldMatch]
    /// Fields of the entry the node does not enforce (names, or the key for a condition).
    let waypointOnly: [String]

    init(name: String, fields: [FieldMatch], waypointOnly: [String]) {
        self.name = name
        self.fields = fields
        self.waypointOnly = waypointOnly
    }

    @inline(__always)
    func matches<Facts: PolicyFacts>(_ facts: Facts) -> Bool {
        if fields.isEmpty { return false }
        for index in fields.indices where !fields[index].matches(facts) { return false }
        return true
    }
}

/// A section of a rule (`from`, `to`, or one `when` condition): it matches when any group does.
final class Clause: Sendable {
    /// `from`, `to` or `when[i]`.
    let name: String
    let groups: [MatchGroup]

    init(name: String, groups: [MatchGroup]) {
        self.name = name
        self.groups = groups
    }

    @inline(__always)
    func matches<Facts: PolicyFacts>(_ facts: Facts) -> Bool {
        for index in groups.indices where groups[index].matches(facts) { return true }
        return false
    }
}

/// A rule compiled for the node or the waypoint. It matches when it was not dropped and every clause
/// matches; a rule without clauses (`{}`) matches every connection or request. At the waypoint every rule
/// is ``NodeEnforcement/enforced`` and has no waypoint-only fields.
final class CompiledRule: Sendable {
    let index: Int
    let enforcement: NodeEnforcement
    let clauses: [Clause]
    let waypointOnly: [WaypointOnlyField]

    init(index: Int, enforcement: NodeEnforcement, clauses: [Clause], waypointOnly: [WaypointOnlyField]) {
        self.index = index
        self.enforcement = enforcement
        self.clauses = clauses
        self.waypointOnly = waypointOnly
    }

    @inline(__always)
    func matches<Facts: PolicyFacts>(_ facts: Facts) -> Bool {
        if enforcement == .dropped { return false }
        for index in clauses.indices where !clauses[index].matches(facts) { return false }
        return true
    }
}

/// A policy compiled for the node or the waypoint, with its reference precomputed so decisions only copy
/// it. A class so the hot path retains one reference per candidate instead of copying the policy's fields.
final class CompiledPolicy: Sendable {
    /// What a policy does when one of its rules matches, for one enforcement point.
    enum Role: Sendable {
        /// ALLOW.
        case allow
        /// DENY.
        case deny
        /// CUSTOM at the waypoint: Weft has no external authorizer, so a match denies (fail closed). Checked
        /// before DENY, as Istio asks the provider first.
        case custom
        /// Not evaluated: AUDIT (never changes a decision), and CUSTOM at the node (as ztunnel ignores it).
        case ignored
    }

    let policy: AuthorizationPolicy
    let reference: PolicyReference
    let rules: [CompiledRule]
    /// What a match does.
    let role: Role
    /// Whether the policy decides: a role other than ``Role/ignored`` and not dry-run.
    let isEnforced: Bool
    /// Whether the policy is dry-run and would otherwise decide: evaluated only to report what it would do.
    let isDryRun: Bool

    /// Compiles `policy` for an enforcement point.
    init(_ policy: AuthorizationPolicy, for enforcer: RuleCompiler.Enforcer = .node) {
        self.policy = policy
        self.reference = PolicyReference(policy)
        let role: Role
        switch (policy.action, enforcer) {
        case (.allow, _): role = .allow
        case (.deny, _): role = .deny
        case (.custom, .waypoint): role = .custom
        case (.custom, .node), (.audit, _): role = .ignored
        }
        self.role = role
        self.isEnforced = role != .ignored && !policy.dryRun
        self.isDryRun = role != .ignored && policy.dryRun
        self.rules = policy.rules.map {
            RuleCompiler.compile($0, for: enforcer, action: policy.action, policyNamespace: policy.namespace)
        }
    }

    /// The index (in `spec.rules`) of the first rule that matches, if any. No rules: no match.
    @inline(__always)
    func firstMatchingRule<Facts: PolicyFacts>(_ facts: Facts) -> Int? {
        for index in rules.indices where rules[index].matches(facts) { return rules[index].index }
        return nil
    }
}
