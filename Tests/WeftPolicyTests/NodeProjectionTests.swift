// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// What the node does with fields only a waypoint can enforce, as istiod projects policies for ztunnel:
/// an ALLOW rule using one is dropped whole; a DENY rule keeps its L4 part, and an entry left empty
/// matches nothing.
@Suite("HTTP degradation at the node")
struct NodeProjectionTests {
    static let waypointOnlySources: [(String, Source)] = [
        ("requestPrincipals", Source(requestPrincipals: ["issuer/subject"])),
        ("notRequestPrincipals", Source(notRequestPrincipals: ["issuer/subject"])),
        ("remoteIpBlocks", Source(remoteIpBlocks: [block("10.0.0.0/8")])),
        ("notRemoteIpBlocks", Source(notRemoteIpBlocks: [block("192.168.0.0/16")])),
        ("trustDomains", Source(trustDomains: ["cluster.local"])),
        ("notTrustDomains", Source(notTrustDomains: ["other.td"])),
    ]
    static let waypointOnlyOperations: [(String, Operation)] = [
        ("hosts", Operation(hosts: ["web.shop.svc.cluster.local"])), ("notHosts", Operation(notHosts: ["x"])),
        ("methods", Operation(methods: ["GET"])), ("notMethods", Operation(notMethods: ["DELETE"])),
        ("paths", Operation(paths: ["/api/*"])), ("notPaths", Operation(notPaths: ["/admin"])),
    ]
    static let waypointOnlyKeys = [
        "request.headers[x-token]", "request.auth.principal", "request.auth.claims[iss]", "remote.ip", "connection.sni",
        "source.serviceAccount", "source.trustDomain",
    ]

    /// Every waypoint-only field, alone in an ALLOW rule, and in a rule whose L4 part matches.
    static var allWaypointOnlyRules: [(String, Rule)] {
        waypointOnlySources.map { ($0.0, rule(from: [$0.1])) }
            + waypointOnlyOperations.map { ($0.0, rule(to: [$0.1])) }
            + waypointOnlyKeys.map { ($0, rule(when: [Condition(key: $0, values: ["10.0.0.5"])])) }
    }

    @Test("ALLOW: a rule with any waypoint-only field is dropped, so the policy allows nothing")
    func allowRuleDropped() {
        for (name, waypointRule) in Self.allWaypointOnlyRules {
            var withL4 = waypointRule
            withL4.from.append(Source(namespaces: ["foo"]))
            for candidate in [waypointRule, withL4] {
                let allow = policy("allow-http", .allow, rules: [candidate])
                let decision = PolicySet([allow]).evaluate(connection())
                #expect(decision == Decision(verdict: .deny, cause: .noAllowPolicyMatched(allowPolicies: 1)), "\(name)")
                #expect(allow.nodeProjection.map(\.enforcement) == [.dropped], "\(name)")
            }
        }
    }

    @Test("ALLOW: other rules of the policy still apply, with their own index")
    func otherAllowRulesApply() {
        let allow = policy(
            "mixed", .allow,
            rules: [rule(from: [Source(namespaces: ["foo"])], to: [Operation(methods: ["GET"])]), rule(to: [Operation(ports: [8080])])])
        let decision = PolicySet([allow]).evaluate(connection())
        #expect(decision.decidingPolicy?.rule == 1)
        #expect(PolicySet([allow]).evaluate(connection(port: 9090)).verdict == .deny)
        #expect(allow.nodeProjection.map(\.enforcement) == [.dropped, .enforced])
    }

    @Test("remoteIpBlocks is not the source IP at L4: an ALLOW on it is dropped")
    func remoteIpBlocksAreNotSourceIP() {
        let allow = policy("remote", .allow, rules: [rule(from: [Source(remoteIpBlocks: [block("10.0.0.5")])])])
        #expect(PolicySet([allow]).evaluate(connection(from: "10.0.0.5")).verdict == .deny)
    }

    @Test("DENY: L7 fields of an entry are removed and the L4 rest denies more broadly")
    func denyKeepsL4Part() {
        let deny = policy(
            "deny-foo-jwt", .deny,
            rules: [rule(from: [Source(principals: ["cluster.local/ns/foo/sa/client"], notRequestPrincipals: ["*"])])])
        let set = PolicySet([deny])
        #expect(set.evaluate(connection()).verdict == .deny)
        #expect(set.evaluate(connection(identity: identity("bar", "client"))).isAllowed)
        let projection = deny.nodeProjection
        #expect(projection.map(\.enforcement) == [.l4PartOnly])
        #expect(projection[0].waypointOnlyFields == [WaypointOnlyField(entry: .from(0), field: "notRequestPrincipals", entryKeepsNodeFields: true)])
        #expect(projection[0].waypointOnlyFields[0].path == "from[0].source.notRequestPrincipals")
    }

    @Test("DENY: ports with methods denies every connection to the port")
    func denyPortWithMethod() {
        let deny = policy("deny-get-8080", .deny, rules: [rule(to: [Operation(ports: [8080], methods: ["GET"])])])
        #expect(PolicySet([deny]).evaluate(connection(port: 8080)).verdict == .deny)
        #expect(PolicySet([deny]).evaluate(connection(port: 9090)).isAllowed)
    }

    @Test("DENY: principals X with to.methods has no effect at the node")
    func denyWithOnlyL7ToHasNoEffect() {
        let deny = policy(
            "deny-foo-get", .deny,
            rules: [rule(from: [Source(principals: ["cluster.local/ns/foo/sa/client"])], to: [Operation(methods: ["GET"])])])
        #expect(PolicySet([deny]).evaluate(connection()).isAllowed)
        #expect(deny.nodeProjection.map(\.enforcement) == [.noEffect])
        #expect(deny.nodeProjection[0].emptySections == ["to"])
    }

    @Test("DENY: principals X with an HTTP when condition has no effect at the node", arguments: waypointOnlyKeys)
    func denyWithL7WhenHasNoEffect(key: String) {
        let deny = policy(
            "deny-token", .deny,
            rules: [rule(from: [Source(principals: ["*"])], when: [Condition(key: key, values: ["x"])])])
        #expect(PolicySet([deny]).evaluate(connection()).isAllowed)
        #expect(deny.nodeProjection[0].enforcement == .noEffect)
        #expect(deny.nodeProjection[0].emptySections == ["when[0]"])
        #expect(deny.nodeProjection[0].waypointOnlyFields.map(\.description) == ["when[0].key (\(key))"])
    }

    @Test("DENY: only waypoint-only fields means no effect; an L4 rule of the same policy still applies")
    func denyOnlyL7() {
        for (name, waypointRule) in Self.allWaypointOnlyRules {
            let deny = policy("deny-http", .deny, rules: [waypointRule])
            #expect(PolicySet([deny]).evaluate(connection()).isAllowed, "\(name)")
            #expect(deny.nodeProjection[0].enforcement == .noEffect, "\(name)")
            let withL4Rule = policy("deny-http", .deny, rules: [waypointRule, rule(from: [Source(namespaces: ["foo"])])])
            #expect(PolicySet([withL4Rule]).evaluate(connection()).decidingPolicy?.rule == 1, "\(name)")
        }
    }

    @Test("DENY: an entry left empty matches nothing, the other entries still deny")
    func denyEmptyEntry() {
        let deny = policy(
            "deny", .deny,
            rules: [rule(from: [Source(requestPrincipals: ["issuer/bad"]), Source(namespaces: ["bar"])])])
        #expect(PolicySet([deny]).evaluate(connection()).isAllowed)
        #expect(PolicySet([deny]).evaluate(connection(identity: identity("bar", "x"))).verdict == .deny)
        let projection = deny.nodeProjection[0]
        #expect(projection.enforcement == .l4PartOnly)
        #expect(projection.waypointOnlyFields.map(\.entryKeepsNodeFields) == [false])
    }

    @Test("an L4-only rule is enforced as written")
    func l4RuleEnforced() {
        let rules = [rule(from: [Source(namespaces: ["foo"], ipBlocks: [block("10.0.0.0/8")])], to: [Operation(notPorts: [22])], when: [Condition(key: "source.ip", values: ["10.0.0.0/8"])])]
        for action in [AuthorizationPolicy.Action.allow, .deny] {
            let projection = policy("p", action, rules: rules).nodeProjection
            #expect(projection == [RuleProjection(ruleIndex: 0, enforcement: .enforced, waypointOnlyFields: [], emptySections: [])])
        }
    }
}
