// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Istio's evaluation order over a set of candidate policies, shared by the node and the waypoint:
/// a matching CUSTOM policy denies (waypoint only; see ``CompiledPolicy/Role/custom``), then a matching DENY
/// policy denies, then no ALLOW policy → allow, a matching ALLOW policy → allow, otherwise deny.
///
/// Candidates may be offered in any order: when several policies of a kind match, the one reported is the
/// one with the lowest index (so the first in `namespace/name` order), and policies that cannot change the
/// outcome any more are not matched at all (no ALLOW is matched once a denial is known).
struct VerdictAccumulator {
    private struct Hit {
        var policy: Int
        var rule: Int
    }

    private var custom: Hit?
    private var deny: Hit?
    private var allow: Hit?
    /// How many ALLOW policies were offered.
    private(set) var allowPolicies = 0

    /// Considers one candidate: the caller has already decided that it counts (enforced, or dry-run when
    /// computing what dry-run policies would do).
    @inline(__always)
    mutating func consider<Facts: PolicyFacts>(_ index: Int, _ policy: CompiledPolicy, _ facts: Facts) {
        switch policy.role {
        case .ignored:
            return
        case .custom:
            if let current = custom, current.policy < index { return }
            if let rule = policy.firstMatchingRule(facts) { custom = Hit(policy: index, rule: rule) }
        case .deny:
            if custom != nil { return }
            if let current = deny, current.policy < index { return }
            if let rule = policy.firstMatchingRule(facts) { deny = Hit(policy: index, rule: rule) }
        case .allow:
            allowPolicies += 1
            if custom != nil || deny != nil { return }
            if let current = allow, current.policy < index { return }
            if let rule = policy.firstMatchingRule(facts) { allow = Hit(policy: index, rule: rule) }
        }
    }

    /// The verdict and its cause; `compiled` is the array the indexes point into.
    func outcome(_ compiled: [CompiledPolicy]) -> (verdict: Decision.Verdict, cause: Decision.Cause) {
        if let hit = custom ?? deny {
            return (.deny, .deniedByPolicy(compiled[hit.policy].reference, rule: hit.rule))
        }
        if allowPolicies == 0 { return (.allow, .noAllowPolicy) }
        if let allow {
            return (.allow, .allowedByPolicy(compiled[allow.policy].reference, rule: allow.rule))
        }
        return (.deny, .noAllowPolicyMatched(allowPolicies: allowPolicies))
    }
}
