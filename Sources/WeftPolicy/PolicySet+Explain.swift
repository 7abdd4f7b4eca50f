// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

extension PolicySet {
    /// Authorizes one connection like ``evaluate(_:)`` and records why: the slow path for `weft explain`
    /// and debug logs. The matching code is the same; only the recording differs.
    ///
    /// - Parameter facts: The connection, with its destination workload's namespace and labels.
    /// - Returns: The decision, a reason naming the fields that decided, and a trace of every applicable policy.
    public func explain(_ facts: ConnectionFacts) -> Explanation {
        let decision = evaluate(facts)
        let indexes = candidateIndexes(namespace: facts.destinationNamespace, labels: facts.destinationLabels)
        let traces = indexes.map { trace(compiled[$0], facts: facts) }
        let reason = reason(decision, facts: facts, indexes: indexes)
        return Explanation(facts: facts, decision: decision, reason: reason, policies: traces)
    }

    private func reason(_ decision: Decision, facts: ConnectionFacts, indexes: [Int]) -> String {
        switch decision.cause {
        case .deniedByPolicy(let policy, let rule), .allowedByPolicy(let policy, let rule):
            let verb = decision.verdict == .deny ? "denied by" : "allowed by"
            let detail = indexes.lazy.map { self.compiled[$0] }
                .first { $0.reference == policy }
                .flatMap { compiledPolicy in compiledPolicy.rules.first { $0.index == rule } }
                .map { matchDetail($0, facts: facts) } ?? ""
            return "\(verb) \(policy.describing(rule: rule))" + (detail.isEmpty ? "" : ": \(detail)")
        case .noAllowPolicy:
            let denies = indexes.filter { compiled[$0].isEnforced && compiled[$0].policy.action == .deny }.count
            if denies == 0 { return "allowed: no ALLOW policy applies and no DENY policy applies" }
            return "allowed: no ALLOW policy applies; \(denies) DENY \(Self.policies(denies)) and none matched"
        case .noAllowPolicyMatched(let count):
            let names = indexes.filter { compiled[$0].isEnforced && compiled[$0].policy.action == .allow }
                .map { compiled[$0].reference }
                .map { $0.key + ($0.location.map { " (\($0))" } ?? "") }
            return "denied: no ALLOW policy matched; \(count) ALLOW \(Self.policies(count)): "
                + names.joined(separator: ", ")
        }
    }

    /// `policy applies` or `policies apply`.
    private static func policies(_ count: Int) -> String { count == 1 ? "policy applies" : "policies apply" }

    /// The fields that made a matching rule match, joined with `; `.
    private func matchDetail(_ rule: CompiledRule, facts: ConnectionFacts) -> String {
        if rule.clauses.isEmpty { return "rule \(rule.index) has no conditions and matches every connection" }
        var parts: [String] = []
        for clause in rule.clauses {
            guard let group = clause.groups.first(where: { $0.matches(facts) }) else { continue }
            parts += group.fields.map { $0.explain(facts).text }
        }
        return parts.joined(separator: "; ")
    }

    private func trace(_ policy: CompiledPolicy, facts: ConnectionFacts) -> PolicyTrace {
        let meshWide = policy.policy.namespace == rootNamespace
        let scope: PolicyTrace.Scope
        if let selector = policy.policy.selector {
            scope = .selector(selector, meshWide: meshWide)
        } else {
            scope = meshWide ? .meshWide : .namespace
        }
        switch policy.policy.action {
        case .audit:
            return PolicyTrace(
                policy: policy.reference, scope: scope, status: .ignored("AUDIT policies are not enforced at the node"),
                matched: false, rules: [])
        case .custom:
            let provider = policy.policy.provider.map { " (provider \($0))" } ?? ""
            return PolicyTrace(
                policy: policy.reference, scope: scope,
                status: .ignored("CUSTOM\(provider) runs only at a waypoint; the node ignores it"), matched: false,
                rules: [])
        case .allow, .deny:
            let rules = policy.rules.map { trace($0, facts: facts) }
            return PolicyTrace(
                policy: policy.reference, scope: scope, status: policy.policy.dryRun ? .dryRun : .enforced,
                matched: rules.contains(where: \.matched), rules: rules)
        }
    }

    private func trace(_ rule: CompiledRule, facts: ConnectionFacts) -> RuleTrace {
        var details: [String] = []
        let fields = rule.waypointOnly.map(\.description).joined(separator: ", ")
        switch rule.enforcement {
        case .dropped:
            details.append("waypoint-only: \(fields); an ALLOW rule using them is omitted at the node")
            return RuleTrace(index: rule.index, enforcement: rule.enforcement, matched: false, details: details)
        case .l4PartOnly, .noEffect:
            details.append("waypoint-only, removed at the node: \(fields)")
        case .enforced:
            break
        }
        if rule.clauses.isEmpty { details.append("no conditions: matches every connection") }
        var matched = true
        for clause in rule.clauses {
            if let group = clause.groups.first(where: { $0.matches(facts) }) {
                let texts = group.fields.map { $0.explain(facts).text }
                details.append("\(clause.name): \(group.name) matched — " + texts.joined(separator: "; "))
                continue
            }
            matched = false
            let texts = clause.groups.map { group -> String in
                if group.fields.isEmpty {
                    let removed = group.waypointOnly.joined(separator: ", ")
                    return "\(group.name) keeps no L4 field (\(removed) only at a waypoint) and matches nothing"
                }
                let failing = group.fields.map { $0.explain(facts) }.filter { !$0.matched }.map(\.text)
                return failing.joined(separator: "; ")
            }
            details.append("\(clause.name): no match — " + texts.joined(separator: " | "))
        }
        return RuleTrace(index: rule.index, enforcement: rule.enforcement, matched: matched, details: details)
    }
}
