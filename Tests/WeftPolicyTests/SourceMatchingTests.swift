// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// Every `from[].source` field and its `not` twin, each value form, and the AND/OR structure, checked with
/// both an ALLOW policy (allowed iff the rule matches) and a DENY policy (denied iff it matches).
@Suite("Source, operation and rule structure matching")
struct SourceMatchingTests {
    static let principalCases: [MatchCase] = [
        MatchCase("principals exact", rule(from: [Source(principals: ["cluster.local/ns/foo/sa/client"])]), matches: true),
        MatchCase("principals exact, other sa", rule(from: [Source(principals: ["cluster.local/ns/foo/sa/other"])]), matches: false),
        MatchCase("principals prefix", rule(from: [Source(principals: ["cluster.local/ns/foo/*"])]), matches: true),
        MatchCase("principals prefix miss", rule(from: [Source(principals: ["cluster.local/ns/bar/*"])]), matches: false),
        MatchCase("principals suffix", rule(from: [Source(principals: ["*/sa/client"])]), matches: true),
        MatchCase("principals suffix miss", rule(from: [Source(principals: ["*/sa/admin"])]), matches: false),
        MatchCase("principals presence", rule(from: [Source(principals: ["*"])]), matches: true),
        MatchCase("principals presence, plaintext", rule(from: [Source(principals: ["*"])]), connection(plaintext: true), matches: false),
        MatchCase("principals exact, plaintext", rule(from: [Source(principals: ["cluster.local/ns/foo/sa/client"])]), connection(plaintext: true), matches: false),
        MatchCase("principals with spiffe:// never match", rule(from: [Source(principals: ["spiffe://cluster.local/ns/foo/sa/client"])]), matches: false),
        MatchCase("principals: other trust domain", rule(from: [Source(principals: ["cluster.local/ns/foo/sa/client"])]), connection(identity: identity("foo", "client", trustDomain: "other.td")), matches: false),
        MatchCase("principals: values ORed", rule(from: [Source(principals: ["cluster.local/ns/x/sa/y", "cluster.local/ns/foo/sa/client"])]), matches: true),
        MatchCase("notPrincipals excludes the peer", rule(from: [Source(notPrincipals: ["cluster.local/ns/foo/sa/client"])]), matches: false),
        MatchCase("notPrincipals other peer", rule(from: [Source(notPrincipals: ["cluster.local/ns/bar/sa/client"])]), matches: true),
        MatchCase("notPrincipals prefix excludes", rule(from: [Source(notPrincipals: ["cluster.local/*"])]), matches: false),
        MatchCase("notPrincipals, plaintext matches", rule(from: [Source(notPrincipals: ["cluster.local/ns/foo/sa/client"])]), connection(plaintext: true), matches: true),
        MatchCase("notPrincipals *, plaintext matches (STRICT)", rule(from: [Source(notPrincipals: ["*"])]), connection(plaintext: true), matches: true),
        MatchCase("notPrincipals *, mTLS does not match", rule(from: [Source(notPrincipals: ["*"])]), matches: false),
    ]

    static let namespaceCases: [MatchCase] = [
        MatchCase("namespaces exact", rule(from: [Source(namespaces: ["foo"])]), matches: true),
        MatchCase("namespaces exact miss", rule(from: [Source(namespaces: ["bar"])]), matches: false),
        MatchCase("namespaces prefix", rule(from: [Source(namespaces: ["fo*"])]), matches: true),
        MatchCase("namespaces prefix miss", rule(from: [Source(namespaces: ["ba*"])]), matches: false),
        MatchCase("namespaces suffix", rule(from: [Source(namespaces: ["*oo"])]), matches: true),
        MatchCase("namespaces suffix miss", rule(from: [Source(namespaces: ["*ar"])]), matches: false),
        MatchCase("namespaces presence", rule(from: [Source(namespaces: ["*"])]), matches: true),
        MatchCase("namespaces presence, plaintext", rule(from: [Source(namespaces: ["*"])]), connection(plaintext: true), matches: false),
        MatchCase("namespaces are the identity's, not the destination's", rule(from: [Source(namespaces: ["shop"])]), matches: false),
        MatchCase("notNamespaces excludes", rule(from: [Source(notNamespaces: ["foo"])]), matches: false),
        MatchCase("notNamespaces other", rule(from: [Source(notNamespaces: ["bar"])]), matches: true),
        MatchCase("notNamespaces suffix excludes", rule(from: [Source(notNamespaces: ["*o"])]), matches: false),
        MatchCase("notNamespaces, plaintext matches", rule(from: [Source(notNamespaces: ["foo"])]), connection(plaintext: true), matches: true),
    ]

    static let serviceAccountCases: [MatchCase] = [
        MatchCase("serviceAccounts ns/sa", rule(from: [Source(serviceAccounts: ["foo/client"])]), matches: true),
        MatchCase("serviceAccounts ns/sa miss", rule(from: [Source(serviceAccounts: ["foo/admin"])]), matches: false),
        MatchCase("serviceAccounts bare sa is the policy's namespace", rule(from: [Source(serviceAccounts: ["client"])]), matches: false),
        MatchCase("serviceAccounts bare sa, peer in policy namespace", rule(from: [Source(serviceAccounts: ["client"])]), connection(identity: identity("shop", "client")), matches: true),
        MatchCase("serviceAccounts ignore the trust domain", rule(from: [Source(serviceAccounts: ["foo/client"])]), connection(identity: identity("foo", "client", trustDomain: "other.td")), matches: true),
        MatchCase("serviceAccounts, plaintext", rule(from: [Source(serviceAccounts: ["foo/client"])]), connection(plaintext: true), matches: false),
        MatchCase("notServiceAccounts excludes", rule(from: [Source(notServiceAccounts: ["foo/client"])]), matches: false),
        MatchCase("notServiceAccounts other", rule(from: [Source(notServiceAccounts: ["foo/admin"])]), matches: true),
        MatchCase("notServiceAccounts, plaintext matches", rule(from: [Source(notServiceAccounts: ["foo/client"])]), connection(plaintext: true), matches: true),
    ]

    static let ipBlockCases: [MatchCase] = [
        MatchCase("ipBlocks v4 CIDR", rule(from: [Source(ipBlocks: [block("10.0.0.0/24")])]), matches: true),
        MatchCase("ipBlocks v4 CIDR miss", rule(from: [Source(ipBlocks: [block("10.0.1.0/24")])]), matches: false),
        MatchCase("ipBlocks single v4", rule(from: [Source(ipBlocks: [block("10.0.0.5")])]), matches: true),
        MatchCase("ipBlocks single v4 miss", rule(from: [Source(ipBlocks: [block("10.0.0.6")])]), matches: false),
        MatchCase("ipBlocks host bits set", rule(from: [Source(ipBlocks: [block("10.0.0.77/24")])]), matches: true),
        MatchCase("ipBlocks /0 v4", rule(from: [Source(ipBlocks: [block("0.0.0.0/0")])]), matches: true),
        MatchCase("ipBlocks /0 v4 does not match v6", rule(from: [Source(ipBlocks: [block("0.0.0.0/0")])]), connection(from: "fd00::1"), matches: false),
        MatchCase("ipBlocks v6 CIDR", rule(from: [Source(ipBlocks: [block("fd00::/64")])]), connection(from: "fd00::1:2"), matches: true),
        MatchCase("ipBlocks v6 CIDR miss", rule(from: [Source(ipBlocks: [block("fd00::/64")])]), connection(from: "fd00:0:0:1::1"), matches: false),
        MatchCase("ipBlocks v6 /100", rule(from: [Source(ipBlocks: [block("fd00::abcd:0:0/100")])]), connection(from: "fd00::abcd:fff:1"), matches: true),
        MatchCase("ipBlocks v6 /100 miss", rule(from: [Source(ipBlocks: [block("fd00::abcd:0:0/100")])]), connection(from: "fd00::abcd:1000:1"), matches: false),
        MatchCase("ipBlocks single v6", rule(from: [Source(ipBlocks: [block("fd00::1")])]), connection(from: "fd00::1"), matches: true),
        MatchCase("ipBlocks v6 block vs v4 peer", rule(from: [Source(ipBlocks: [block("::/0")])]), matches: false),
        MatchCase("ipBlocks v4 matches IPv4-mapped peer", rule(from: [Source(ipBlocks: [block("10.0.0.0/24")])]), connection(from: "::ffff:10.0.0.5"), matches: true),
        MatchCase("ipBlocks values ORed", rule(from: [Source(ipBlocks: [block("192.168.0.0/16"), block("10.0.0.0/8")])]), matches: true),
        MatchCase("ipBlocks work for plaintext", rule(from: [Source(ipBlocks: [block("10.0.0.0/8")])]), connection(plaintext: true), matches: true),
        MatchCase("notIpBlocks excludes", rule(from: [Source(notIpBlocks: [block("10.0.0.0/24")])]), matches: false),
        MatchCase("notIpBlocks other", rule(from: [Source(notIpBlocks: [block("10.9.0.0/16")])]), matches: true),
        MatchCase("notIpBlocks v6", rule(from: [Source(notIpBlocks: [block("fd00::/8")])]), connection(from: "fd00::1"), matches: false),
    ]

    static let operationAndStructureCases: [MatchCase] = [
        MatchCase("ports", rule(to: [Operation(ports: [8080])]), matches: true),
        MatchCase("ports miss", rule(to: [Operation(ports: [9090])]), matches: false),
        MatchCase("ports ORed", rule(to: [Operation(ports: [9090, 8080])]), matches: true),
        MatchCase("notPorts excludes", rule(to: [Operation(notPorts: [8080])]), matches: false),
        MatchCase("notPorts other", rule(to: [Operation(notPorts: [9090])]), matches: true),
        MatchCase("ports and notPorts ANDed", rule(to: [Operation(ports: [8080], notPorts: [8080])]), matches: false),
        MatchCase("source fields ANDed, both match", rule(from: [Source(namespaces: ["foo"], ipBlocks: [block("10.0.0.0/8")])]), matches: true),
        MatchCase("source fields ANDed, one fails", rule(from: [Source(namespaces: ["foo"], ipBlocks: [block("192.168.0.0/16")])]), matches: false),
        MatchCase("positive and negative ANDed", rule(from: [Source(notPrincipals: ["*/sa/client"], namespaces: ["foo"])]), matches: false),
        MatchCase("from entries ORed", rule(from: [Source(namespaces: ["bar"]), Source(ipBlocks: [block("10.0.0.0/24")])]), matches: true),
        MatchCase("from entries ORed, none", rule(from: [Source(namespaces: ["bar"]), Source(ipBlocks: [block("10.9.0.0/24")])]), matches: false),
        MatchCase("to entries ORed", rule(to: [Operation(ports: [9090]), Operation(ports: [8080])]), matches: true),
        MatchCase("from and to ANDed, to fails", rule(from: [Source(namespaces: ["foo"])], to: [Operation(ports: [9090])]), matches: false),
        MatchCase("from and to ANDed, from fails", rule(from: [Source(namespaces: ["bar"])], to: [Operation(ports: [8080])]), matches: false),
        MatchCase("from, to and when all match", rule(from: [Source(namespaces: ["foo"])], to: [Operation(ports: [8080])], when: [Condition(key: "destination.ip", values: ["10.1.0.9"])]), matches: true),
        MatchCase("from and to match, when fails", rule(from: [Source(namespaces: ["foo"])], to: [Operation(ports: [8080])], when: [Condition(key: "destination.ip", values: ["10.1.0.8"])]), matches: false),
        MatchCase("empty rule matches all", rule(), matches: true),
        MatchCase("empty rule matches plaintext", rule(), connection(plaintext: true), matches: true),
    ]

    @Test("principals / notPrincipals", arguments: principalCases)
    func principals(_ row: MatchCase) { check(row) }

    @Test("namespaces / notNamespaces", arguments: namespaceCases)
    func namespaces(_ row: MatchCase) { check(row) }

    @Test("serviceAccounts / notServiceAccounts", arguments: serviceAccountCases)
    func serviceAccounts(_ row: MatchCase) { check(row) }

    @Test("ipBlocks / notIpBlocks, IPv4 and IPv6", arguments: ipBlockCases)
    func ipBlocks(_ row: MatchCase) { check(row) }

    @Test("ports / notPorts and the AND/OR structure", arguments: operationAndStructureCases)
    func operationsAndStructure(_ row: MatchCase) { check(row) }

    /// The rule as the only rule of an ALLOW policy (allowed iff it matches) and of a DENY policy
    /// (denied iff it matches), with `explain` agreeing with `evaluate`.
    func check(_ row: MatchCase) {
        let allowSet = PolicySet([policy("allow", .allow, rules: [row.rule])])
        let allowDecision = allowSet.evaluate(row.facts)
        #expect(allowDecision.isAllowed == row.matches, "ALLOW: \(allowDecision)")
        let denySet = PolicySet([policy("deny", .deny, rules: [row.rule])])
        let denyDecision = denySet.evaluate(row.facts)
        #expect(denyDecision.isAllowed == !row.matches, "DENY: \(denyDecision)")
        #expect(allowSet.explain(row.facts).decision == allowDecision)
        #expect(denySet.explain(row.facts).decision == denyDecision)
        #expect(allowSet.explain(row.facts).policies.first?.matched == row.matches)
    }
}
