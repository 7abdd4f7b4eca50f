// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// `explain` gives the same decision as `evaluate`, a reason naming the fields that decided, and a trace of
/// every applicable policy.
@Suite("Explanations")
struct ExplainTests {
    @Test func denyReasonNamesPolicyRuleAndField() {
        let set = PolicySet([
            policy("deny-foo", .deny, rules: [rule(from: [Source(namespaces: ["bar"])]), rule(from: [Source(namespaces: ["f*"])])])
        ])
        let explanation = set.explain(connection())
        #expect(explanation.decision == set.evaluate(connection()))
        #expect(
            explanation.reason
                == "denied by DENY policy shop/deny-foo rule 1 (policies.yaml:4): from[0].source.namespaces: source "
                + "namespace \"foo\" matched \"f*\"")
    }

    @Test func noAllowMatchedListsTheAllowPolicies() {
        let set = PolicySet([
            policy("allow-bar", .allow, rules: [rule(from: [Source(namespaces: ["bar"])])]),
            policy("allow-nothing", .allow, namespace: "istio-system", rules: []),
            policy("audit", .audit, rules: [rule()]),
        ])
        let explanation = set.explain(connection())
        #expect(
            explanation.reason
                == "denied: no ALLOW policy matched; 2 ALLOW policies apply: istio-system/allow-nothing "
                + "(policies.yaml:4), shop/allow-bar (policies.yaml:4)")
    }

    @Test func allowReasonsAndNoPolicy() {
        #expect(PolicySet([]).explain(connection()).reason == "allowed: no ALLOW policy applies and no DENY policy applies")
        let set = PolicySet([
            policy("deny-bar", .deny, rules: [rule(from: [Source(namespaces: ["bar"])])]),
            policy("allow-all", .allow, rules: [rule()]),
        ])
        #expect(
            set.explain(connection()).reason
                == "allowed by ALLOW policy shop/allow-all rule 0 (policies.yaml:4): rule 0 has no conditions and "
                + "matches every connection")
        let onlyDeny = PolicySet([policy("deny-bar", .deny, rules: [rule(from: [Source(namespaces: ["bar"])])])])
        #expect(onlyDeny.explain(connection()).reason == "allowed: no ALLOW policy applies; 1 DENY policy applies and none matched")
    }

    @Test func traceCoversEveryApplicablePolicyAndRule() throws {
        let set = PolicySet([
            policy("ext", .custom, rules: [rule()]),
            policy("audit", .audit, namespace: "istio-system", rules: [rule()]),
            policy(
                "web", .allow, scope: .selector(LabelSelector(["app": "web"])),
                rules: [
                    rule(to: [Operation(methods: ["GET"])]),
                    rule(from: [Source(principals: ["*"])], to: [Operation(ports: [9090])]),
                ]),
            policy("elsewhere", .allow, namespace: "billing", rules: []),
        ])
        let explanation = set.explain(connection(plaintext: true))
        #expect(explanation.policies.map(\.policy.key) == ["istio-system/audit", "shop/ext", "shop/web"])
        #expect(explanation.policies[0].status == .ignored("AUDIT policies are not enforced at the node"))
        #expect(explanation.policies[0].scope == .meshWide)
        #expect(explanation.policies[1].status == .ignored("CUSTOM (provider ext-authz) runs only at a waypoint; the node ignores it"))
        let web = explanation.policies[2]
        #expect(web.scope == .selector(LabelSelector(["app": "web"]), meshWide: false))
        #expect(web.matched == false)
        #expect(web.rules.map(\.enforcement) == [.dropped, .enforced])
        #expect(web.rules[0].details == ["waypoint-only: to[0].operation.methods; an ALLOW rule using them is omitted at the node"])
        #expect(
            web.rules[1].details == [
                "from: no match — from[0].source.principals: no source principal (plaintext connection without a peer identity) cannot match [\"*\"]",
                "to: no match — to[0].operation.ports: destination port 8080 matched none of [9090]",
            ])
        let text = explanation.description
        #expect(
            text.hasPrefix(
                "DENY: denied: no ALLOW policy matched; 1 ALLOW policy applies: shop/web (policies.yaml:4)\n"
                    + "connection: 10.0.0.5 (plaintext) -> 10.1.0.9:8080 in namespace shop\n"
                    + "policies applying at the node:\n"))
        #expect(text.contains("  ALLOW policy shop/web (policies.yaml:4), selector app=web: not matched\n"))
        #expect(text.contains("    rule 0: dropped at the node (uses waypoint-only fields; matches nothing here)\n"))
        #expect(text.contains("AUDIT policy istio-system/audit (policies.yaml:4), mesh-wide: ignored (AUDIT policies are not enforced at the node)"))
    }

    @Test func negatedFieldsAndMatchedClausesAreExplained() throws {
        let set = PolicySet([
            policy(
                "strict", .deny, namespace: "istio-system",
                rules: [rule(from: [Source(notPrincipals: ["*"])], to: [Operation(notPorts: [15021])])])
        ])
        let plaintext = set.explain(connection(plaintext: true))
        #expect(
            plaintext.reason
                == "denied by DENY policy istio-system/strict rule 0 (policies.yaml:4): from[0].source.notPrincipals: "
                + "no source principal (plaintext connection without a peer identity), so none of [\"*\"] matched; "
                + "to[0].operation.notPorts: destination port 8080 is none of [15021]")
        let mtls = set.explain(connection())
        let details = try #require(mtls.policies.first?.rules.first?.details)
        #expect(details.first == "from: no match — from[0].source.notPrincipals: source principal \"cluster.local/ns/foo/sa/client\" is excluded by \"*\"")
        #expect(details.last == "to: to[0] matched — to[0].operation.notPorts: destination port 8080 is none of [15021]")
    }

    @Test func denyDegradationIsExplained() throws {
        let set = PolicySet([
            policy(
                "deny", .deny,
                rules: [rule(from: [Source(principals: ["*"])], when: [Condition(key: "request.headers[x-token]", values: ["a"])])])
        ])
        let rule = try #require(set.explain(connection()).policies.first?.rules.first)
        #expect(rule.enforcement == .noEffect)
        #expect(rule.summary == "rule 0: no effect at the node (a section keeps no L4 field)")
        #expect(
            rule.details == [
                "waypoint-only, removed at the node: when[0].key (request.headers[x-token])",
                "from: from[0] matched — from[0].source.principals: source principal \"cluster.local/ns/foo/sa/client\" matched \"*\"",
                "when[0]: no match — when[0] keeps no L4 field (request.headers[x-token] only at a waypoint) and matches nothing",
            ])
    }

    @Test func explainAgreesWithEvaluateOnMixedSets() {
        let policies = [
            policy("a", .allow, rules: [rule(from: [Source(namespaces: ["foo"])], to: [Operation(ports: [8080])])]),
            policy("b", .deny, rules: [rule(from: [Source(ipBlocks: [block("10.0.0.0/30")])])]),
            policy("c", .allow, namespace: "istio-system", scope: .selector(LabelSelector(["app": "web"])), rules: [rule(to: [Operation(ports: [9090])])]),
        ]
        let set = PolicySet(policies)
        for facts in [
            connection(), connection(from: "10.0.0.2"), connection(port: 9090), connection(port: 7070),
            connection(plaintext: true, port: 9090), connection(labels: [:]),
        ] {
            #expect(set.explain(facts).decision == set.evaluate(facts))
        }
        #expect(set.evaluate(connection(from: "10.0.0.2")).decidingPolicy?.policy.key == "shop/b")
        #expect(set.evaluate(connection(plaintext: true, port: 9090)).decidingPolicy?.policy.key == "istio-system/c")
        #expect(set.evaluate(connection(port: 7070)).verdict == .deny)
    }
}
