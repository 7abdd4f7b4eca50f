// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// Which policies apply to a workload: root namespace (mesh-wide, and its selectors in every namespace),
/// the workload's namespace, selectors, and never other namespaces or `targetRefs` policies.
@Suite("Policy scope")
struct ScopeTests {
    /// An ALLOW policy that matches nothing: when it applies, the connection is denied.
    func allowNothing(_ name: String, namespace: String, scope: AuthorizationPolicy.Scope = .namespace) -> AuthorizationPolicy {
        policy(name, .allow, namespace: namespace, scope: scope, rules: [])
    }

    @Test func rootNamespacePolicyIsMeshWide() {
        let set = PolicySet([allowNothing("mesh", namespace: "istio-system")])
        #expect(set.evaluate(connection(namespace: "shop")).verdict == .deny)
        #expect(set.evaluate(connection(namespace: "other", labels: [:])).verdict == .deny)
        #expect(set.evaluate(connection(namespace: "istio-system")).verdict == .deny)
    }

    @Test func rootNamespaceIsConfigurable() {
        let policies = [allowNothing("mesh", namespace: "mesh-root")]
        #expect(PolicySet(policies, rootNamespace: "mesh-root").evaluate(connection()).verdict == .deny)
        #expect(PolicySet(policies).evaluate(connection()).isAllowed)
        let snapshot = MeshSnapshot(authorizationPolicies: policies, rootNamespace: "mesh-root")
        #expect(PolicySet(snapshot: snapshot).evaluate(connection()).verdict == .deny)
    }

    @Test func namespacePolicyAppliesOnlyToItsNamespace() {
        let set = PolicySet([allowNothing("local", namespace: "shop")])
        #expect(set.evaluate(connection(namespace: "shop")).verdict == .deny)
        #expect(set.evaluate(connection(namespace: "billing")) == Decision(verdict: .allow, cause: .noAllowPolicy))
    }

    @Test func selectorMatchAndNonMatch() {
        let selector = LabelSelector(["app": "web", "tier": "front"])
        let set = PolicySet([allowNothing("web", namespace: "shop", scope: .selector(selector))])
        #expect(set.evaluate(connection(labels: ["app": "web", "tier": "front", "v": "1"])).verdict == .deny)
        #expect(set.evaluate(connection(labels: ["app": "web"])).isAllowed, "every selector label must match")
        #expect(set.evaluate(connection(labels: ["tier": "front"])).isAllowed)
        #expect(set.evaluate(connection(labels: ["app": "api", "tier": "front"])).isAllowed)
        #expect(set.evaluate(connection(namespace: "billing", labels: ["app": "web", "tier": "front"])).isAllowed)
    }

    @Test func rootNamespaceSelectorAppliesInEveryNamespace() {
        let set = PolicySet([allowNothing("web-everywhere", namespace: "istio-system", scope: .selector(LabelSelector(["app": "web"])))])
        #expect(set.evaluate(connection(namespace: "shop", labels: ["app": "web"])).verdict == .deny)
        #expect(set.evaluate(connection(namespace: "billing", labels: ["app": "web"])).verdict == .deny)
        #expect(set.evaluate(connection(namespace: "billing", labels: ["app": "db"])).isAllowed)
    }

    @Test func otherNamespacesSelectorPoliciesDoNotApply() {
        let set = PolicySet([
            allowNothing("web", namespace: "billing", scope: .selector(LabelSelector(["app": "web"]))),
            allowNothing("all", namespace: "billing"),
        ])
        #expect(set.evaluate(connection(namespace: "shop", labels: ["app": "web"])).isAllowed)
        #expect(set.policies(applyingToNamespace: "shop", labels: ["app": "web"]).isEmpty)
        #expect(set.policies(applyingToNamespace: "billing", labels: ["app": "web"]).map(\.name) == ["all", "web"])
    }

    @Test func targetRefsPoliciesAreForTheWaypoint() {
        let waypoint = allowNothing(
            "waypoint-only", namespace: "shop",
            scope: .targetRefs([.init(group: "gateway.networking.k8s.io", kind: "Gateway", name: "waypoint")]))
        let set = PolicySet([waypoint])
        #expect(set.evaluate(connection()) == Decision(verdict: .allow, cause: .noAllowPolicy))
        #expect(set.waypointPolicies == [waypoint])
        #expect(set.count == 0)
    }

    @Test func policiesAreCountedOnceForRootNamespaceWorkloads() {
        let set = PolicySet([policy("mesh", .allow, namespace: "istio-system", rules: [rule(from: [Source(namespaces: ["bar"])])])])
        #expect(set.evaluate(connection(namespace: "istio-system")) == Decision(verdict: .deny, cause: .noAllowPolicyMatched(allowPolicies: 1)))
    }

    @Test func modelAppliesAgreesWithTheIndex() {
        let policies = [
            allowNothing("mesh", namespace: "istio-system"),
            allowNothing("mesh-web", namespace: "istio-system", scope: .selector(LabelSelector(["app": "web"]))),
            allowNothing("shop", namespace: "shop"),
            allowNothing("shop-db", namespace: "shop", scope: .selector(LabelSelector(["app": "db"]))),
            allowNothing("billing", namespace: "billing"),
        ]
        let set = PolicySet(policies)
        for (namespace, labels) in [("shop", ["app": "web"]), ("shop", ["app": "db"]), ("billing", [:]), ("istio-system", ["app": "web"])] {
            let expected = policies.filter { $0.applies(toNamespace: namespace, labels: labels, rootNamespace: "istio-system") }
                .map(\.key).sorted()
            #expect(set.policies(applyingToNamespace: namespace, labels: labels).map(\.key) == expected, "\(namespace) \(labels)")
        }
    }
}
