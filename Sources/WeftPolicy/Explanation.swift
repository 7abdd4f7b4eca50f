// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// A decision with its full trace: every policy that applies to the destination workload at the node,
/// and for each rule whether it matched and why. Produced by ``PolicySet/explain(_:)`` for `weft explain`.
public struct Explanation: Sendable, CustomStringConvertible {
    /// The connection explained.
    public let facts: ConnectionFacts
    /// The same decision ``PolicySet/evaluate(_:)`` returns.
    public let decision: Decision
    /// The decision's reason with the matching fields (or the ALLOW policies that did not match), e.g.
    /// `denied by DENY policy shop/x rule 0 (p.yaml:4): from[0].source.namespaces: source namespace "foo"
    /// matched "foo"`.
    public let reason: String
    /// The applicable policies in `namespace/name` order, ignored ones included.
    public let policies: [PolicyTrace]

    /// The decision and reason, the connection, then one block per policy, one line per rule.
    public var description: String {
        var lines = ["\(decision.verdict.rawValue): \(reason)", "connection: \(facts)"]
        lines.append(policies.isEmpty ? "no AuthorizationPolicy applies at the node" : "policies applying at the node:")
        lines += Self.lines(policies)
        return lines.joined(separator: "\n")
    }

    /// One line per policy, then one per rule and per rule detail, indented: the body shared with
    /// ``WaypointExplanation``.
    static func lines(_ policies: [PolicyTrace]) -> [String] {
        var lines: [String] = []
        for policy in policies {
            lines.append("  \(policy)")
            for rule in policy.rules {
                lines.append("    \(rule.summary)")
                lines += rule.details.map { "      \($0)" }
            }
        }
        return lines
    }
}

/// One applicable policy in an ``Explanation`` (node) or a ``WaypointExplanation``.
public struct PolicyTrace: Sendable, CustomStringConvertible {
    /// Why the policy applies to the workload or request.
    public enum Scope: Hashable, Sendable {
        /// Root namespace, no selector.
        case meshWide
        /// The workload's namespace, no selector.
        case namespace
        /// Its selector matches the workload's labels (`meshWide`: it is a root-namespace policy).
        case selector(LabelSelector, meshWide: Bool)
        /// At a waypoint: this `targetRefs` entry binds it (the waypoint's Gateway, the `istio-waypoint`
        /// GatewayClass, or the Service the request is for).
        case targetRef(AuthorizationPolicy.TargetReference)
    }

    /// Whether the node or waypoint enforces the policy.
    public enum Status: Hashable, Sendable {
        case enforced
        /// `istio.io/dry-run`: evaluated, not enforced.
        case dryRun
        /// Not evaluated (AUDIT; CUSTOM at the node); the text says why.
        case ignored(String)
    }

    /// The policy.
    public let policy: PolicyReference
    /// Why it applies to the workload or request.
    public let scope: Scope
    /// Whether the node or waypoint enforces it.
    public let status: Status
    /// Whether any rule matched (always false for ignored policies).
    public let matched: Bool
    /// One entry per rule, in order; empty for ignored policies and policies without rules.
    public let rules: [RuleTrace]

    /// `DENY policy ns/x (file:line), namespace-wide: matched`.
    public var description: String {
        let scopeText: String
        switch scope {
        case .meshWide: scopeText = "mesh-wide"
        case .namespace: scopeText = "namespace-wide"
        case .selector(let selector, let meshWide):
            let labels = selector.matchLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            scopeText = "selector \(labels.joined(separator: ","))" + (meshWide ? " in every namespace" : "")
        case .targetRef(let target):
            scopeText = "targetRef \(target)"
        }
        let outcome: String
        switch status {
        case .ignored(let why): outcome = "ignored (\(why))"
        case .dryRun: outcome = (matched ? "would match" : "would not match") + " (dry-run, not enforced)"
        case .enforced:
            outcome = matched ? "matched" : (rules.isEmpty ? "not matched (no rules: matches nothing)" : "not matched")
        }
        return "\(policy), \(scopeText): \(outcome)"
    }
}

/// One rule in a ``PolicyTrace``.
public struct RuleTrace: Sendable {
    /// The rule's index in `spec.rules`.
    public let index: Int
    /// How the node enforces the rule; always ``NodeEnforcement/enforced`` at a waypoint, which enforces
    /// rules as written.
    public let enforcement: NodeEnforcement
    /// Whether the rule matched the connection or request (never for dropped or no-effect rules).
    public let matched: Bool
    /// One line per clause (`from`, `to`, each `when`) and one per note on waypoint-only fields.
    public let details: [String]

    /// `rule 0: matched`, `rule 1: dropped at the node`, …
    public var summary: String {
        switch enforcement {
        case .dropped: return "rule \(index): dropped at the node (uses waypoint-only fields; matches nothing here)"
        case .noEffect: return "rule \(index): no effect at the node (a section keeps no L4 field)"
        case .enforced, .l4PartOnly:
            let part = enforcement == .l4PartOnly ? " (L4 part only)" : ""
            return "rule \(index)\(part): " + (matched ? "matched" : "not matched")
        }
    }
}
