// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// Istio's order: CUSTOM (ignored at L4), DENY, no ALLOW → allow, ALLOW, otherwise deny.
@Suite("Evaluation order")
struct EvaluationOrderTests {
    let fromFoo = rule(from: [Source(namespaces: ["foo"])])
    let fromBar = rule(from: [Source(namespaces: ["bar"])])

    @Test func noPoliciesAllow() {
        let decision = PolicySet([]).evaluate(connection())
        #expect(decision == Decision(verdict: .allow, cause: .noAllowPolicy))
    }

    @Test func denyBeatsAllow() {
        let set = PolicySet([policy("allow-foo", .allow, rules: [fromFoo]), policy("deny-foo", .deny, rules: [fromFoo])])
        let decision = set.evaluate(connection())
        #expect(decision.verdict == .deny)
        #expect(decision.decidingPolicy?.policy.key == "shop/deny-foo")
        #expect(decision.decidingPolicy?.rule == 0)
    }

    @Test func nonMatchingDenyAndNoAllowAllows() {
        let set = PolicySet([policy("deny-bar", .deny, rules: [fromBar])])
        #expect(set.evaluate(connection()) == Decision(verdict: .allow, cause: .noAllowPolicy))
        #expect(set.evaluate(connection(identity: identity("bar", "x"))).verdict == .deny)
    }

    @Test func allowPresentButNoneMatchedDenies() {
        let set = PolicySet([policy("allow-bar", .allow, rules: [fromBar]), policy("allow-ops", .allow, rules: [fromBar])])
        let decision = set.evaluate(connection())
        #expect(decision == Decision(verdict: .deny, cause: .noAllowPolicyMatched(allowPolicies: 2)))
        #expect(decision.description == "denied: no ALLOW policy matched; 2 ALLOW policies apply")
        #expect(decision.ztunnelReason == "allow policies exist, but none allowed")
    }

    @Test func matchingAllowAllowsAndNamesTheRule() {
        let set = PolicySet([policy("allow", .allow, rules: [fromBar, fromFoo])])
        let decision = set.evaluate(connection())
        #expect(decision.verdict == .allow)
        #expect(decision.decidingPolicy?.rule == 1)
        #expect(decision.description == "allowed by ALLOW policy shop/allow rule 1 (policies.yaml:4)")
    }

    @Test func auditIsIgnored() {
        let set = PolicySet([policy("audit-all", .audit, rules: [rule()])])
        #expect(set.evaluate(connection()) == Decision(verdict: .allow, cause: .noAllowPolicy))
        let withAllow = PolicySet([policy("audit-all", .audit, rules: [rule()]), policy("allow-bar", .allow, rules: [fromBar])])
        #expect(withAllow.evaluate(connection()) == Decision(verdict: .deny, cause: .noAllowPolicyMatched(allowPolicies: 1)))
    }

    @Test func customIsIgnored() {
        let set = PolicySet([policy("ext", .custom, rules: [rule()])])
        #expect(set.evaluate(connection()) == Decision(verdict: .allow, cause: .noAllowPolicy))
        let withDeny = PolicySet([policy("ext", .custom, rules: [rule()]), policy("deny-foo", .deny, rules: [fromFoo])])
        #expect(withDeny.evaluate(connection()).decidingPolicy?.policy.key == "shop/deny-foo")
    }

    @Test func dryRunIsNotEnforced() {
        let set = PolicySet([
            policy("deny-all", .deny, dryRun: true, rules: [rule()]),
            policy("allow-bar", .allow, dryRun: true, rules: [fromBar]),
        ])
        #expect(set.evaluate(connection()) == Decision(verdict: .allow, cause: .noAllowPolicy))
        let explanation = set.explain(connection())
        #expect(explanation.policies.map(\.status) == [.dryRun, .dryRun])
        #expect(explanation.policies.map(\.matched) == [false, true])
    }

    @Test("spec: {} (ALLOW without rules) denies everything")
    func allowNothing() {
        let set = PolicySet([policy("allow-nothing", .allow, rules: [])])
        #expect(set.evaluate(connection()) == Decision(verdict: .deny, cause: .noAllowPolicyMatched(allowPolicies: 1)))
        #expect(set.evaluate(connection(plaintext: true)).verdict == .deny)
    }

    @Test("rules: [{}] allows everything")
    func allowAll() {
        let set = PolicySet([policy("allow-all", .allow, rules: [rule()]), policy("allow-nothing", .allow, rules: [])])
        #expect(set.evaluate(connection()).decidingPolicy?.policy.key == "shop/allow-all")
        #expect(set.evaluate(connection(plaintext: true, port: 1)).isAllowed)
    }

    @Test("DENY rules: [{}] denies everything; DENY without rules has no effect")
    func denyAllAndDenyNothing() {
        #expect(PolicySet([policy("deny-all", .deny, rules: [rule()])]).evaluate(connection(plaintext: true)).verdict == .deny)
        #expect(PolicySet([policy("deny-none", .deny, rules: [])]).evaluate(connection()).isAllowed)
    }

    @Test("several matching DENY policies: the first by namespace/name is reported, whatever the input order")
    func deterministicDenyReport() {
        let policies = [
            policy("zeta", .deny, rules: [fromFoo]), policy("alpha", .deny, rules: [fromBar, fromFoo]),
            policy("mesh", .deny, namespace: "istio-system", rules: [fromFoo]),
        ]
        for order in [policies, policies.reversed(), [policies[1], policies[2], policies[0]]] {
            let decision = PolicySet(order).evaluate(connection())
            #expect(decision.decidingPolicy?.policy.key == "istio-system/mesh")
        }
        let local = PolicySet(Array(policies.prefix(2)).reversed()).evaluate(connection())
        #expect(local == Decision(verdict: .deny, cause: .deniedByPolicy(PolicyReference(policies[1]), rule: 1)))
        #expect(local.ztunnelReason == "explicitly denied by: shop/alpha")
    }
}
