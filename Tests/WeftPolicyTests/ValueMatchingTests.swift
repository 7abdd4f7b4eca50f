// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

@Suite("Value forms and CIDR blocks")
struct ValueMatchingTests {
    @Test(
        "Istio string forms",
        arguments: [
            ("abc", StringMatch.exact("abc"), "abc", true), ("abc", .exact("abc"), "abcd", false),
            ("ab*", .prefix("ab"), "abcd", true), ("ab*", .prefix("ab"), "xab", false),
            ("*cd", .suffix("cd"), "abcd", true), ("*cd", .suffix("cd"), "cdx", false),
            ("*", .presence, "x", true), ("*", .presence, "", false),
            ("*b*", .suffix("b*"), "ab*", true), ("*b*", .suffix("b*"), "abc", false),
            ("é", .exact("é"), "e\u{301}", false),
        ])
    func stringForms(_ value: String, _ expected: StringMatch, _ candidate: String, _ matches: Bool) {
        let match = StringMatch(istio: value)
        #expect(match == expected)
        #expect(match.description == value)
        #expect(match.matches(candidate) == matches)
    }

    @Test(
        "CIDR parsing",
        arguments: [
            ("10.0.0.0/8", "10.0.0.0/8"), ("10.1.2.3", "10.1.2.3/32"), ("0.0.0.0/0", "0.0.0.0/0"), ("fd00::/64", "fd00::/64"),
            ("::1", "::1/128"), ("10.0.0.7/24", "10.0.0.7/24"), ("::/0", "::/0"),
        ])
    func parsesBlocks(_ text: String, _ description: String) throws {
        #expect(try #require(IPPrefix(parsing: text)).description == description)
    }

    @Test(
        "malformed CIDRs are rejected",
        arguments: [
            "10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/-1", "10.0.0/8", "host.example", "",
            "10.0.0.0/8/8", "fe80::1%eth0", "10.0.0.0/ 8", "/8",
        ])
    func rejectsBlocks(_ text: String) {
        #expect(IPPrefix(parsing: text) == nil)
    }

    @Test func containment() {
        #expect(block("10.0.0.0/8").contains(ip("10.255.255.255")))
        #expect(!block("10.0.0.0/8").contains(ip("11.0.0.0")))
        #expect(block("10.0.0.1/32").contains(ip("10.0.0.1")))
        #expect(!block("10.0.0.1/32").contains(ip("10.0.0.2")))
        #expect(block("fd00::/8").contains(ip("fdff::1")))
        #expect(!block("fd00::/8").contains(ip("fe00::1")))
        #expect(block("fd00::1/128").contains(ip("fd00::1")))
        #expect(!block("fd00::1/128").contains(ip("fd00::2")))
        #expect(block("fd00::/64").contains(ip("fd00::ffff:ffff:ffff:ffff")))
        #expect(!block("::/0").contains(ip("10.0.0.1")))
        #expect(!block("0.0.0.0/0").contains(ip("::ffff:10.0.0.1")), "the block does not canonicalise; ConnectionFacts does")
    }

    @Test func connectionFactsCanonicaliseMappedAddresses() {
        let facts = connection(from: "::ffff:10.0.0.5", to: "::ffff:10.1.0.9")
        #expect(facts.sourceIP == ip("10.0.0.5"))
        #expect(facts.destinationIP == ip("10.1.0.9"))
        #expect(facts.sourcePrincipal == "cluster.local/ns/foo/sa/client")
        #expect(connection(plaintext: true).sourcePrincipal == nil)
        #expect(facts.description == "10.0.0.5 (spiffe://cluster.local/ns/foo/sa/client) -> 10.1.0.9:8080 in namespace shop")
        let workload = Workload(kind: .pod, name: "web-1", namespace: "shop", labels: ["app": "web"], addresses: [ip("fd00::9")])
        let toPod = ConnectionFacts(
            sourceIP: ip("fd00::1"), sourceIdentity: nil, destinationIP: ip("fd00::9"), destinationPort: 443, destination: workload)
        #expect(toPod.description == "fd00::1 (plaintext) -> [fd00::9]:443 Pod/shop/web-1")
        #expect(toPod.destinationLabels == ["app": "web"])
        #expect(toPod.destinationNamespace == "shop")
    }
}
