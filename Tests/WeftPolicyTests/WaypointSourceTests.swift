// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// Every `from[].source` field and its `not` twin at the waypoint, where all of them are enforced (the node
/// drops requestPrincipals, remoteIpBlocks and trustDomains), checked with an ALLOW and a DENY policy.
@Suite("Waypoint: source fields")
struct WaypointSourceTests {
    static let identityCases: [RequestCase] = [
        RequestCase("principals exact", rule(from: [Source(principals: ["cluster.local/ns/foo/sa/client"])]), matches: true),
        RequestCase("principals exact miss", rule(from: [Source(principals: ["cluster.local/ns/foo/sa/other"])]), matches: false),
        RequestCase("principals prefix", rule(from: [Source(principals: ["cluster.local/ns/foo/*"])]), matches: true),
        RequestCase("principals suffix", rule(from: [Source(principals: ["*/sa/client"])]), matches: true),
        RequestCase("principals presence", rule(from: [Source(principals: ["*"])]), matches: true),
        RequestCase("principals presence, plaintext", rule(from: [Source(principals: ["*"])]), request(plaintext: true), matches: false),
        RequestCase("notPrincipals excludes", rule(from: [Source(notPrincipals: ["cluster.local/ns/foo/sa/client"])]), matches: false),
        RequestCase("notPrincipals other", rule(from: [Source(notPrincipals: ["cluster.local/ns/bar/*"])]), matches: true),
        RequestCase("notPrincipals *, plaintext", rule(from: [Source(notPrincipals: ["*"])]), request(plaintext: true), matches: true),
        RequestCase("namespaces exact", rule(from: [Source(namespaces: ["foo"])]), matches: true),
        RequestCase("namespaces miss", rule(from: [Source(namespaces: ["bar"])]), matches: false),
        RequestCase("namespaces prefix", rule(from: [Source(namespaces: ["f*"])]), matches: true),
        RequestCase("namespaces are the peer's, not the service's", rule(from: [Source(namespaces: ["shop"])]), matches: false),
        RequestCase("notNamespaces excludes", rule(from: [Source(notNamespaces: ["foo"])]), matches: false),
        RequestCase("notNamespaces, plaintext", rule(from: [Source(notNamespaces: ["foo"])]), request(plaintext: true), matches: true),
        RequestCase("serviceAccounts ns/sa", rule(from: [Source(serviceAccounts: ["foo/client"])]), matches: true),
        RequestCase("serviceAccounts bare sa is the policy's namespace", rule(from: [Source(serviceAccounts: ["client"])]), matches: false),
        RequestCase(
            "serviceAccounts bare sa, peer in the policy's namespace", rule(from: [Source(serviceAccounts: ["client"])]),
            request(identity: identity("shop", "client")), matches: true),
        RequestCase("notServiceAccounts excludes", rule(from: [Source(notServiceAccounts: ["foo/client"])]), matches: false),
        RequestCase("notServiceAccounts other", rule(from: [Source(notServiceAccounts: ["foo/admin"])]), matches: true),
        RequestCase("trustDomains exact", rule(from: [Source(trustDomains: ["cluster.local"])]), matches: true),
        RequestCase("trustDomains miss", rule(from: [Source(trustDomains: ["other.td"])]), matches: false),
        RequestCase("trustDomains suffix", rule(from: [Source(trustDomains: ["*.local"])]), matches: true),
        RequestCase("trustDomains, plaintext", rule(from: [Source(trustDomains: ["*"])]), request(plaintext: true), matches: false),
        RequestCase("notTrustDomains excludes", rule(from: [Source(notTrustDomains: ["cluster.local"])]), matches: false),
        RequestCase(
            "notTrustDomains other", rule(from: [Source(notTrustDomains: ["cluster.local"])]),
            request(identity: identity("foo", "client", trustDomain: "other.td")), matches: true),
    ]

    /// No JWT is ever validated: request principals are absent, as for an Istio request without a token.
    static let requestPrincipalCases: [RequestCase] = [
        RequestCase("requestPrincipals exact never match", rule(from: [Source(requestPrincipals: ["https://issuer/sub"])]), matches: false),
        RequestCase("requestPrincipals * never match", rule(from: [Source(requestPrincipals: ["*"])]), matches: false),
        RequestCase(
            "requestPrincipals ignore an Authorization header", rule(from: [Source(requestPrincipals: ["*"])]),
            request(headers: [("authorization", "Bearer eyJhbGciOi")]), matches: false),
        RequestCase("notRequestPrincipals * always matches (deny without JWT)", rule(from: [Source(notRequestPrincipals: ["*"])]), matches: true),
        RequestCase("notRequestPrincipals exact matches", rule(from: [Source(notRequestPrincipals: ["iss/sub"])]), matches: true),
        RequestCase(
            "requestPrincipals AND principals never match", rule(from: [Source(principals: ["*"], requestPrincipals: ["*"])]),
            matches: false),
    ]

    static let addressCases: [RequestCase] = [
        RequestCase("ipBlocks CIDR", rule(from: [Source(ipBlocks: [block("10.0.0.0/24")])]), matches: true),
        RequestCase("ipBlocks miss", rule(from: [Source(ipBlocks: [block("10.0.1.0/24")])]), matches: false),
        RequestCase("ipBlocks v6", rule(from: [Source(ipBlocks: [block("fd00::/16")])]), request(from: "fd00::7"), matches: true),
        RequestCase("ipBlocks IPv4-mapped peer", rule(from: [Source(ipBlocks: [block("10.0.0.0/8")])]), request(from: "::ffff:10.0.0.5"), matches: true),
        RequestCase("notIpBlocks excludes", rule(from: [Source(notIpBlocks: [block("10.0.0.5")])]), matches: false),
        RequestCase("notIpBlocks other", rule(from: [Source(notIpBlocks: [block("192.168.0.0/16")])]), matches: true),
        RequestCase("remoteIpBlocks are the peer", rule(from: [Source(remoteIpBlocks: [block("10.0.0.0/24")])]), matches: true),
        RequestCase("remoteIpBlocks miss", rule(from: [Source(remoteIpBlocks: [block("203.0.113.0/24")])]), matches: false),
        RequestCase(
            "remoteIpBlocks ignore X-Forwarded-For", rule(from: [Source(remoteIpBlocks: [block("203.0.113.0/24")])]),
            request(headers: [("X-Forwarded-For", "203.0.113.9")]), matches: false),
        RequestCase("notRemoteIpBlocks excludes", rule(from: [Source(notRemoteIpBlocks: [block("10.0.0.0/8")])]), matches: false),
        RequestCase(
            "notRemoteIpBlocks ignore X-Forwarded-For", rule(from: [Source(notRemoteIpBlocks: [block("203.0.113.0/24")])]),
            request(headers: [("x-forwarded-for", "203.0.113.9")]), matches: true),
    ]

    static let structureCases: [RequestCase] = [
        RequestCase("empty rule matches every request", rule(), matches: true),
        RequestCase("fields in one source are ANDed", rule(from: [Source(namespaces: ["foo"], ipBlocks: [block("10.9.0.0/16")])]), matches: false),
        RequestCase(
            "sources are ORed", rule(from: [Source(namespaces: ["bar"]), Source(ipBlocks: [block("10.0.0.0/8")])]), matches: true),
        RequestCase(
            "from and to are ANDed", rule(from: [Source(namespaces: ["foo"])], to: [Operation(methods: ["POST"])]),
            matches: false),
        RequestCase("an empty source matches nothing", rule(from: [Source()]), matches: false),
    ]

    @Test("identity fields", arguments: identityCases)
    func identities(_ row: RequestCase) { Self.check(row) }

    @Test("request principals without JWT", arguments: requestPrincipalCases)
    func requestPrincipals(_ row: RequestCase) { Self.check(row) }

    @Test("peer and remote address blocks", arguments: addressCases)
    func addresses(_ row: RequestCase) { Self.check(row) }

    @Test("AND/OR structure", arguments: structureCases)
    func structure(_ row: RequestCase) { Self.check(row) }

    static func check(_ row: RequestCase) {
        let (allowed, denied, agrees) = row.check()
        #expect(allowed == row.matches, "ALLOW: \(row.name)")
        #expect(denied == row.matches, "DENY: \(row.name)")
        #expect(agrees, "explain: \(row.name)")
    }
}
