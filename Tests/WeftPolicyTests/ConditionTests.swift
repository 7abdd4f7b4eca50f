// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// `when` conditions on the five keys the node enforces, with `values`, `notValues` and both.
@Suite("when conditions at L4")
struct ConditionTests {
    static func when(_ key: String, values: [String] = [], notValues: [String] = []) -> Rule {
        rule(when: [Condition(key: key, values: values, notValues: notValues)])
    }

    static let cases: [MatchCase] = [
        MatchCase("source.ip values CIDR", when("source.ip", values: ["10.0.0.0/24"]), matches: true),
        MatchCase("source.ip values single", when("source.ip", values: ["10.0.0.5"]), matches: true),
        MatchCase("source.ip values miss", when("source.ip", values: ["10.0.1.0/24"]), matches: false),
        MatchCase("source.ip values v6", when("source.ip", values: ["fd00::/16"]), connection(from: "fd00::9"), matches: true),
        MatchCase("source.ip notValues excludes", when("source.ip", notValues: ["10.0.0.0/24"]), matches: false),
        MatchCase("source.ip notValues other", when("source.ip", notValues: ["10.0.1.0/24"]), matches: true),
        MatchCase("source.ip values and notValues", when("source.ip", values: ["10.0.0.0/8"], notValues: ["10.0.0.5"]), matches: false),
        MatchCase("source.ip values and notValues, other host", when("source.ip", values: ["10.0.0.0/8"], notValues: ["10.0.0.6"]), matches: true),
        MatchCase("source.namespace values", when("source.namespace", values: ["foo"]), matches: true),
        MatchCase("source.namespace values prefix", when("source.namespace", values: ["f*"]), matches: true),
        MatchCase("source.namespace values miss", when("source.namespace", values: ["bar"]), matches: false),
        MatchCase("source.namespace values, plaintext", when("source.namespace", values: ["*"]), connection(plaintext: true), matches: false),
        MatchCase("source.namespace notValues excludes", when("source.namespace", notValues: ["foo"]), matches: false),
        MatchCase("source.namespace notValues, plaintext", when("source.namespace", notValues: ["foo"]), connection(plaintext: true), matches: true),
        MatchCase("source.principal values", when("source.principal", values: ["cluster.local/ns/foo/sa/client"]), matches: true),
        MatchCase("source.principal values suffix", when("source.principal", values: ["*/sa/client"]), matches: true),
        MatchCase("source.principal values miss", when("source.principal", values: ["cluster.local/ns/foo/sa/x"]), matches: false),
        MatchCase("source.principal notValues excludes", when("source.principal", notValues: ["cluster.local/ns/foo/*"]), matches: false),
        MatchCase("source.principal notValues, plaintext", when("source.principal", notValues: ["*"]), connection(plaintext: true), matches: true),
        MatchCase("destination.ip values", when("destination.ip", values: ["10.1.0.0/16"]), matches: true),
        MatchCase("destination.ip values miss", when("destination.ip", values: ["10.2.0.0/16"]), matches: false),
        MatchCase("destination.ip values v6", when("destination.ip", values: ["fd01::9"]), connection(to: "fd01::9"), matches: true),
        MatchCase("destination.ip notValues excludes", when("destination.ip", notValues: ["10.1.0.9"]), matches: false),
        MatchCase("destination.ip notValues other", when("destination.ip", notValues: ["10.1.0.10"]), matches: true),
        MatchCase("destination.port values", when("destination.port", values: ["8080"]), matches: true),
        MatchCase("destination.port values miss", when("destination.port", values: ["80", "443"]), matches: false),
        MatchCase("destination.port notValues excludes", when("destination.port", notValues: ["8080"]), matches: false),
        MatchCase("destination.port notValues other", when("destination.port", notValues: ["9090"]), matches: true),
        MatchCase(
            "conditions ANDed, both hold",
            rule(when: [Condition(key: "source.namespace", values: ["foo"]), Condition(key: "destination.port", values: ["8080"])]),
            matches: true),
        MatchCase(
            "conditions ANDed, one fails",
            rule(when: [Condition(key: "source.namespace", values: ["foo"]), Condition(key: "destination.port", values: ["9090"])]),
            matches: false),
        MatchCase("unreadable IP value fails closed", when("source.ip", values: ["not-an-ip"]), matches: false),
    ]

    @Test("each key with values and notValues", arguments: cases)
    func conditions(_ row: MatchCase) {
        SourceMatchingTests().check(row)
    }

    @Test("only the five L4 keys are enforced at the node")
    func nodeKeys() throws {
        let enforced = try ConditionAttribute.nodeKeys.map { try ConditionAttribute(key: $0) }
        #expect(enforced.filter { !$0.isNodeEnforced }.isEmpty)
        let waypointOnly = [
            "remote.ip", "connection.sni", "source.serviceAccount", "source.trustDomain", "request.headers[x-token]",
            "request.auth.principal", "request.auth.audiences", "request.auth.presenter", "request.auth.claims[groups]",
            "request.experimental.inline.headers[x]", "experimental.envoy.filters.network.mysql_proxy[db.table]",
        ]
        for key in waypointOnly {
            #expect(try !ConditionAttribute(key: key).isNodeEnforced, "\(key)")
        }
        #expect(try ConditionAttribute(key: "request.headers[x-token]") == .requestHeader("x-token"))
        #expect(try ConditionAttribute(key: "destination.port").valueForm == .port)
        #expect(try ConditionAttribute(key: "source.ip").valueForm == .ipBlock)
        #expect(try ConditionAttribute(key: "source.serviceAccount").valueForm == .serviceAccount)
    }

    @Test(
        "invalid keys are rejected",
        arguments: [
            "request.headers", "request.headers[]", "request.headersx", "destination.namespace", "destination.labels[app]",
            "destination.name", "destination.user", "source.port", "", "request.auth.claims",
        ])
    func invalidKeys(_ key: String) {
        #expect(throws: ConditionAttribute.KeyError.self) { try ConditionAttribute(key: key) }
    }
}
