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
        let reason = Explanation.reason(for: decision, facts: facts, candidates: indexes.map { compiled[$0] })
        return Explanation(facts: facts, decision: decision, reason: reason, policies: traces)
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
            let rules = policy.rules.map { $0.trace(facts) }
            return PolicyTrace(
                policy: policy.reference, scope: scope, status: policy.policy.dryRun ? .dryRun : .enforced,
                matched: rules.contains(where: \.matched), rules: rules)
        }
    }
}
