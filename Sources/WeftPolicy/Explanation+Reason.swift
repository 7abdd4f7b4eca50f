// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

extension Explanation {
    /// A decision's reason with the fields that decided it, shared by the node's and the waypoint's
    /// `explain`: the matching fields of the deciding rule, or the policies that applied without matching.
    ///
    /// - Parameters:
    ///   - decision: The decision `evaluate` returned.
    ///   - facts: The connection or request.
    ///   - candidates: The policies that apply, in `namespace/name` order.
    static func reason<Facts: PolicyFacts>(
        for decision: Decision, facts: Facts, candidates: [CompiledPolicy]
    ) -> String {
        switch decision.cause {
        case .deniedByPolicy(let policy, let rule), .allowedByPolicy(let policy, let rule):
            let verb = decision.verdict == .deny ? "denied by" : "allowed by"
            let detail =
                candidates.first { $0.reference == policy }
                .flatMap { compiledPolicy in compiledPolicy.rules.first { $0.index == rule } }
                .map { $0.matchDetail(facts) } ?? ""
            let custom = policy.action == .custom ? " (no external authorizer: a matching CUSTOM policy denies)" : ""
            return "\(verb) \(policy.describing(rule: rule))\(custom)" + (detail.isEmpty ? "" : ": \(detail)")
        case .noAllowPolicy:
            let denies = candidates.filter { $0.isEnforced && $0.role == .deny }.count
            if denies == 0 { return "allowed: no ALLOW policy applies and no DENY policy applies" }
            return "allowed: no ALLOW policy applies; \(denies) DENY \(policies(denies)) and none matched"
        case .noAllowPolicyMatched(let count):
            let names = candidates.filter { $0.isEnforced && $0.role == .allow }
                .map(\.reference)
                .map { $0.key + ($0.location.map { " (\($0))" } ?? "") }
            return "denied: no ALLOW policy matched; \(count) ALLOW \(policies(count)): "
                + names.joined(separator: ", ")
        }
    }

    /// `policy applies` or `policies apply`.
    private static func policies(_ count: Int) -> String { count == 1 ? "policy applies" : "policies apply" }
}
