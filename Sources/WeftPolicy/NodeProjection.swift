// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// How the node (L4) enforces one AuthorizationPolicy rule, following what istiod sends ztunnel
/// (istio/istio `pilot/pkg/serviceregistry/ambient/authorization.go`, `handleRule`).
public enum NodeEnforcement: Hashable, Sendable {
    /// The rule uses only L4 attributes and is enforced as written.
    case enforced
    /// An ALLOW rule using any waypoint-only attribute: omitted whole, so it matches nothing at the node.
    case dropped
    /// A DENY rule whose waypoint-only attributes are removed; the L4 rest still fires, so it denies more
    /// than written (or, where an entry lost all its fields, less: that entry matches nothing).
    case l4PartOnly
    /// A DENY rule that, once its waypoint-only attributes are removed, has a `from`, `to` or `when`
    /// section whose every entry is empty; ztunnel skips empty entries, so the rule never fires.
    case noEffect
}

/// A field of a rule the node cannot enforce: HTTP attributes, `remoteIpBlocks`, `trustDomains` and
/// `when` keys other than the five L4 ones.
public struct WaypointOnlyField: Hashable, Sendable, CustomStringConvertible {
    /// The entry of the rule the field is in.
    public enum Entry: Hashable, Sendable {
        case from(Int)
        case to(Int)
        case when(Int)
    }

    /// The entry holding the field.
    public var entry: Entry
    /// The field name (`methods`, `remoteIpBlocks`, …), or the key of a `when` condition.
    public var field: String
    /// Whether the entry keeps fields the node enforces once this one is removed; an entry without any
    /// matches nothing at the node.
    public var entryKeepsNodeFields: Bool

    /// Creates a description of one waypoint-only field.
    public init(entry: Entry, field: String, entryKeepsNodeFields: Bool) {
        self.entry = entry
        self.field = field
        self.entryKeepsNodeFields = entryKeepsNodeFields
    }

    /// The field's path inside the rule: `from[0].source.requestPrincipals`, `to[1].operation.methods`,
    /// or `when[2].key` for a condition.
    public var path: String {
        switch entry {
        case .from(let index): return "from[\(index)].source.\(field)"
        case .to(let index): return "to[\(index)].operation.\(field)"
        case .when(let index): return "when[\(index)].key"
        }
    }

    /// The path, with the key for a condition: `when[2].key (request.headers[x-token])`.
    public var description: String {
        if case .when = entry { return "\(path) (\(field))" }
        return path
    }
}

/// The node's view of one rule: how it is enforced and which of its fields only a waypoint can enforce.
public struct RuleProjection: Hashable, Sendable {
    /// The rule's index in `spec.rules`.
    public var ruleIndex: Int
    /// How the node enforces the rule.
    public var enforcement: NodeEnforcement
    /// In the order they appear: `from` entries, then `to` entries, then `when` conditions.
    public var waypointOnlyFields: [WaypointOnlyField]
    /// For a DENY rule with ``NodeEnforcement/noEffect``: the sections left without any L4 field
    /// (`from`, `to`, `when[i]`), which can never match at the node.
    public var emptySections: [String]

    /// Creates a projection.
    public init(
        ruleIndex: Int, enforcement: NodeEnforcement, waypointOnlyFields: [WaypointOnlyField], emptySections: [String]
    ) {
        self.ruleIndex = ruleIndex
        self.enforcement = enforcement
        self.waypointOnlyFields = waypointOnlyFields
        self.emptySections = emptySections
    }
}

extension AuthorizationPolicy {
    /// How the node enforces each rule. DENY rules keep their L4 part; rules of every other action are
    /// dropped when they use a waypoint-only field (AUDIT and CUSTOM policies are ignored by the node anyway).
    public var nodeProjection: [RuleProjection] {
        rules.map { rule in
            let compiled = RuleCompiler.compile(rule, for: .node, action: action, policyNamespace: namespace)
            let empty = compiled.clauses.filter { $0.groups.allSatisfy(\.fields.isEmpty) }.map(\.name)
            return RuleProjection(
                ruleIndex: rule.index, enforcement: compiled.enforcement, waypointOnlyFields: compiled.waypointOnly,
                emptySections: empty)
        }
    }
}
