// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// 10 000 policies: evaluation visits only the policies of the root namespace and the destination's
/// namespace that can select it, and agrees with a brute-force reading of the semantics.
@Suite("Scale")
struct ScaleTests {
    /// 1 000 namespaces × 10 policies: namespace-wide and selector ALLOW/DENY policies, plus a few mesh-wide.
    static let policies: [AuthorizationPolicy] = {
        var result: [AuthorizationPolicy] = []
        for n in 0..<1_000 {
            let namespace = "ns-\(n)"
            for p in 0..<10 {
                let scope: AuthorizationPolicy.Scope = p < 3 ? .namespace : .selector(LabelSelector(["app": "app-\(p)"]))
                let action: AuthorizationPolicy.Action = p % 4 == 0 ? .deny : .allow
                let peer = p % 2 == 1 ? namespace : "ns-\((n + p) % 1_000)"
                let source = Source(namespaces: [peer], ipBlocks: [block("10.\(p).0.0/16")])
                result.append(policy("p-\(p)", action, namespace: namespace, scope: scope, rules: [rule(from: [source], to: [Operation(ports: [UInt16(8000 + p)])])]))
            }
        }
        result.append(policy("mesh-deny", .deny, namespace: "istio-system", rules: [rule(from: [Source(ipBlocks: [block("10.9.9.0/24")])])]))
        return result
    }()

    static func facts(_ i: Int) -> ConnectionFacts {
        connection(
            from: "10.\(i % 10).\(i % 13).\(i % 250)", identity: identity("ns-\(i % 997)", "sa"), plaintext: i % 17 == 0,
            port: UInt16(8000 + i % 11), namespace: "ns-\(i % 1_000)", labels: ["app": "app-\(i % 12)", "team": "t"])
    }

    /// The semantics read directly off the model, scanning every policy.
    static func bruteForce(_ facts: ConnectionFacts, _ policies: [AuthorizationPolicy]) -> Decision.Verdict {
        let applying = policies.filter {
            $0.applies(toNamespace: facts.destinationNamespace, labels: facts.destinationLabels, rootNamespace: "istio-system")
        }
        let matches = { (policy: AuthorizationPolicy) in PolicySet([policy]).explain(facts).policies.first?.matched == true }
        if applying.contains(where: { $0.action == .deny && matches($0) }) { return .deny }
        let allows = applying.filter { $0.action == .allow }
        if allows.isEmpty { return .allow }
        return allows.contains(where: matches) ? .allow : .deny
    }

    @Test func tenThousandPolicies() {
        let set = PolicySet(Self.policies)
        #expect(set.count == 10_001)
        #expect(set.policies(applyingToNamespace: "ns-5", labels: ["app": "app-7"]).map(\.name) == ["mesh-deny", "p-0", "p-1", "p-2", "p-7"])
        for i in stride(from: 0, to: 3_000, by: 7) {
            let facts = Self.facts(i)
            #expect(set.evaluate(facts).verdict == Self.bruteForce(facts, Self.policies), "connection \(i)")
        }
        let clock = ContinuousClock()
        var allowed = 0
        let elapsed = clock.measure {
            for i in 0..<20_000 where set.evaluate(Self.facts(i % 500)).isAllowed { allowed += 1 }
        }
        #expect(allowed > 0 && allowed < 20_000)
        // A scan of all 10 001 policies per connection would take minutes here; the index takes well under a second.
        #expect(elapsed < .seconds(10), "20 000 evaluations took \(elapsed)")
    }

    @Test func tenThousandSelectorsInOneNamespace() {
        let policies = (0..<10_000).map { i in
            policy(
                "sel-\(i)", .allow, scope: .selector(LabelSelector(["app": "app-\(i)", "zone": "z\(i % 3)"])),
                rules: [rule(to: [Operation(ports: [8080])])])
        }
        let set = PolicySet(policies)
        #expect(set.policies(applyingToNamespace: "shop", labels: ["app": "app-42", "zone": "z0"]).map(\.name) == ["sel-42"])
        #expect(set.policies(applyingToNamespace: "shop", labels: ["app": "app-42", "zone": "z1"]).isEmpty)
        #expect(set.evaluate(connection(labels: ["app": "app-42", "zone": "z0"])).decidingPolicy?.policy.key == "shop/sel-42")
        #expect(set.evaluate(connection(port: 9090, labels: ["app": "app-42", "zone": "z0"])).verdict == .deny)
        #expect(set.evaluate(connection(labels: ["app": "other"])) == Decision(verdict: .allow, cause: .noAllowPolicy))
    }
}
