// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// A waypoint decision with its full trace: every policy bound to the waypoint or to the request's Service,
/// and for each rule whether it matched and why. Produced by ``WaypointPolicySet/explain(_:)``; the
/// waypoint counterpart of the node's ``Explanation``, with the same ``PolicyTrace`` and ``RuleTrace``.
public struct WaypointExplanation: Sendable, CustomStringConvertible {
    /// The waypoint, `namespace/name`.
    public let waypoint: String
    /// The request explained.
    public let request: RequestFacts
    /// The same decision ``WaypointPolicySet/evaluate(_:)`` returns.
    public let decision: Decision
    /// The decision's reason with the matching fields (or the ALLOW policies that did not match), e.g.
    /// `denied by DENY policy shop/x rule 0 (p.yaml:4): to[0].operation.paths: path "/admin" matched
    /// "/admin*"`.
    public let reason: String
    /// The applicable policies in `namespace/name` order, AUDIT and dry-run included.
    public let policies: [PolicyTrace]

    /// The decision and reason, the request, what dry-run policies would do, then one block per policy
    /// and one line per rule.
    public var description: String {
        var lines = ["\(decision.verdict.rawValue): \(reason)", "request: \(request)"]
        if let dryRun = decision.dryRun { lines.append(dryRun.description) }
        lines.append(
            policies.isEmpty
                ? "no AuthorizationPolicy applies at waypoint \(waypoint)"
                : "policies applying at waypoint \(waypoint):")
        lines += Explanation.lines(policies)
        return lines.joined(separator: "\n")
    }
}
