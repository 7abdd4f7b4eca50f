// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftPolicy

typealias Rule = AuthorizationPolicy.Rule
typealias Source = AuthorizationPolicy.Source
typealias Operation = AuthorizationPolicy.Operation
typealias Condition = AuthorizationPolicy.Condition

/// Parses an IP address literal, crashing on a typo in the test itself.
func ip(_ text: String) -> IPAddress {
    guard let address = IPAddress(text) else { fatalError("bad IP literal in test: \(text)") }
    return address
}

/// Parses a CIDR literal, crashing on a typo in the test itself.
func block(_ text: String) -> IPPrefix {
    guard let prefix = IPPrefix(parsing: text) else { fatalError("bad CIDR literal in test: \(text)") }
    return prefix
}

/// `spiffe://<td>/ns/<ns>/sa/<sa>`.
func identity(_ namespace: String, _ serviceAccount: String, trustDomain: String = "cluster.local") -> SPIFFEID {
    SPIFFEID(trustDomain: trustDomain, namespace: namespace, serviceAccount: serviceAccount)
}

/// The default client: `foo/client` from 10.0.0.5, to the `app=web` workload in `shop` at 10.1.0.9:8080.
let client = identity("foo", "client")

/// A connection; every part defaults to the common case above. `plaintext` drops the identity.
func connection(
    from source: String = "10.0.0.5", identity peer: SPIFFEID? = client, plaintext: Bool = false,
    to destination: String = "10.1.0.9", port: UInt16 = 8080, namespace: String = "shop",
    labels: [String: String] = ["app": "web"]
) -> ConnectionFacts {
    ConnectionFacts(
        sourceIP: ip(source), sourceIdentity: plaintext ? nil : peer, destinationIP: ip(destination),
        destinationPort: port, destinationNamespace: namespace, destinationLabels: labels)
}

/// A policy in `shop` (namespace-wide unless a scope is given) whose rules are indexed in order.
func policy(
    _ name: String, _ action: AuthorizationPolicy.Action = .allow, namespace: String = "shop",
    scope: AuthorizationPolicy.Scope = .namespace, dryRun: Bool = false, rules: [Rule]
) -> AuthorizationPolicy {
    AuthorizationPolicy(
        name: name, namespace: namespace, location: ManifestLocation(file: "policies.yaml", line: 4),
        scope: scope, action: action, provider: action == .custom ? "ext-authz" : nil,
        rules: rules.enumerated().map { index, rule in
            var copy = rule
            copy.index = index
            return copy
        }, dryRun: dryRun)
}

/// A rule (its index is set by ``policy(_:_:namespace:scope:dryRun:rules:)``).
func rule(from: [Source] = [], to: [Operation] = [], when: [Condition] = []) -> Rule {
    Rule(index: 0, from: from, to: to, when: when)
}

/// Whether a single ALLOW policy with `rule` allows `facts`; that is, whether the rule matches.
func allowRuleMatches(_ rule: Rule, _ facts: ConnectionFacts, policyNamespace: String = "shop") -> Bool {
    let set = PolicySet([policy("p", namespace: policyNamespace, rules: [rule])])
    return set.evaluate(facts).isAllowed
}

/// A labelled case for table tests: a rule, a connection, and whether the rule must match it.
struct MatchCase: Sendable, CustomStringConvertible {
    var name: String
    var rule: Rule
    var facts: ConnectionFacts
    var matches: Bool
    var description: String { name }

    init(_ name: String, _ rule: Rule, _ facts: ConnectionFacts = connection(), matches: Bool) {
        self.name = name
        self.rule = rule
        self.facts = facts
        self.matches = matches
    }
}
