// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// A policy whose rules are indexed in order, declared in a manifest of its own (see ``manifestLocation(_:_:)``).
func policy(
    _ name: String, _ namespace: String, _ action: AuthorizationPolicy.Action,
    scope: AuthorizationPolicy.Scope = .namespace, rules: [AuthorizationPolicy.Rule]
) -> AuthorizationPolicy {
    AuthorizationPolicy(
        name: name, namespace: namespace, location: manifestLocation(namespace, name), scope: scope, action: action,
        rules: rules.enumerated().map { index, rule in
            var rule = rule
            rule.index = index
            return rule
        })
}

/// A rule; ``policy(_:_:_:scope:rules:)`` sets its index.
func rule(
    from: [AuthorizationPolicy.Source] = [], to: [AuthorizationPolicy.Operation] = [],
    when: [AuthorizationPolicy.Condition] = []
) -> AuthorizationPolicy.Rule {
    AuthorizationPolicy.Rule(index: 0, from: from, to: to, when: when)
}

/// `selector.matchLabels`.
func selecting(_ labels: [String: String]) -> AuthorizationPolicy.Scope {
    .selector(LabelSelector(labels))
}

/// Where a generated policy is declared: one manifest per policy, as in a GitOps repository. Decisions carry it.
func manifestLocation(_ namespace: String, _ name: String) -> ManifestLocation {
    ManifestLocation(file: "policies/\(namespace)/\(name).yaml", line: 1)
}

/// A principal in the form policies use: `cluster.local/ns/<namespace>/sa/<account>`.
func principal(_ namespace: String, _ account: String) -> String {
    "cluster.local/ns/\(namespace)/sa/\(account)"
}

/// An address literal of the generated data; a typo is a bug in the benchmark itself.
func address(_ text: String) -> IPAddress {
    guard let address = IPAddress(text) else { preconditionFailure("bad IP literal \(text)") }
    return address
}

/// A CIDR literal of the generated data; a typo is a bug in the benchmark itself.
func cidr(_ text: String) -> IPPrefix {
    guard let prefix = IPPrefix(parsing: text) else { preconditionFailure("bad CIDR literal \(text)") }
    return prefix
}
