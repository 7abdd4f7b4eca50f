// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// One `from` entry, `to` entry or `when` condition as the node matches it: every field must match.
/// A group without fields matches nothing, as ztunnel skips empty matches; this is how a DENY entry that
/// only had waypoint-only fields stops matching.
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
    func matches(_ facts: ConnectionFacts) -> Bool {
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
    func matches(_ facts: ConnectionFacts) -> Bool {
        for index in groups.indices where groups[index].matches(facts) { return true }
        return false
    }
}

/// A rule compiled for the node. It matches when it was not dropped and every clause matches; a rule
/// without clauses (`{}`) matches every connection.
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
    func matches(_ facts: ConnectionFacts) -> Bool {
        if enforcement == .dropped { return false }
        for index in clauses.indices where !clauses[index].matches(facts) { return false }
        return true
    }
}

/// A policy compiled for the node, with its reference precomputed so decisions only copy it. A class so
/// the hot path retains one reference per candidate instead of copying the policy's fields.
final class CompiledPolicy: Sendable {
    let policy: AuthorizationPolicy
    let reference: PolicyReference
    let rules: [CompiledRule]

    init(_ policy: AuthorizationPolicy) {
        self.policy = policy
        self.reference = PolicyReference(policy)
        self.isEnforced = (policy.action == .allow || policy.action == .deny) && !policy.dryRun
        self.isDeny = policy.action == .deny
        self.rules = policy.rules.map {
            NodeCompiler.compile($0, action: policy.action, policyNamespace: policy.namespace)
        }
    }

    /// Whether the node enforces the policy: ALLOW or DENY, and not dry-run.
    let isEnforced: Bool
    /// Whether the policy is a DENY policy.
    let isDeny: Bool

    /// The index (in `spec.rules`) of the first rule that matches, if any. No rules: no match.
    @inline(__always)
    func firstMatchingRule(_ facts: ConnectionFacts) -> Int? {
        for index in rules.indices where rules[index].matches(facts) { return rules[index].index }
        return nil
    }
}
