// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftPolicy

/// The waypoint of the tests: Gateway `shop/waypoint`.
let waypointNamespace = "shop"
let waypointName = "waypoint"

/// A `targetRefs` entry naming the test waypoint's Gateway.
let toWaypoint = AuthorizationPolicy.TargetReference(group: "gateway.networking.k8s.io", kind: "Gateway", name: "waypoint")

/// A `targetRefs` entry naming a Service (in the policy's namespace).
func toService(_ name: String) -> AuthorizationPolicy.TargetReference {
    AuthorizationPolicy.TargetReference(group: "", kind: "Service", name: name)
}

/// The Service `shop/web`, which the default request is for.
let webService = RequestFacts.ServiceName(namespace: "shop", name: "web")

/// A policy bound to the test waypoint (or to `targets`) whose rules are indexed in order.
func waypointPolicy(
    _ name: String, _ action: AuthorizationPolicy.Action = .allow, namespace: String = "shop",
    targets: [AuthorizationPolicy.TargetReference] = [toWaypoint], dryRun: Bool = false, rules: [Rule]
) -> AuthorizationPolicy {
    policy(name, action, namespace: namespace, scope: .targetRefs(targets), dryRun: dryRun, rules: rules)
}

/// A request; every part defaults to the common case: `foo/client` from 10.0.0.5 sends
/// `GET web.shop.svc.cluster.local /api/items` to `shop/web` at 10.1.0.9:8080.
func request(
    _ method: String = "GET", path: String = "/api/items", host: String = "web.shop.svc.cluster.local",
    headers: [(name: String, value: String)] = [], from source: String = "10.0.0.5", identity peer: SPIFFEID? = client,
    plaintext: Bool = false, to destination: String = "10.1.0.9", port: UInt16 = 8080,
    service: RequestFacts.ServiceName? = webService
) -> RequestFacts {
    RequestFacts(
        connection: connection(from: source, identity: peer, plaintext: plaintext, to: destination, port: port),
        service: service, method: method, authority: host, path: path, headers: headers)
}

/// The test waypoint's policy set.
func waypointSet(_ policies: [AuthorizationPolicy]) -> WaypointPolicySet {
    WaypointPolicySet(policies, waypointNamespace: waypointNamespace, waypointName: waypointName)
}

/// A labelled case for waypoint table tests: a rule, a request, and whether the rule must match it.
struct RequestCase: Sendable, CustomStringConvertible {
    var name: String
    var rule: Rule
    var facts: RequestFacts
    var matches: Bool
    var description: String { name }

    init(_ name: String, _ rule: Rule, _ facts: RequestFacts = request(), matches: Bool) {
        self.name = name
        self.rule = rule
        self.facts = facts
        self.matches = matches
    }

    /// Checks the rule both ways: an ALLOW policy allows the request exactly when the rule matches, and a
    /// DENY policy denies it exactly when the rule matches; `explain` agrees with `evaluate` in both.
    func check() -> (allow: Bool, deny: Bool, explainAgrees: Bool) {
        let allowSet = waypointSet([waypointPolicy("allow", .allow, rules: [rule])])
        let denySet = waypointSet([waypointPolicy("deny", .deny, rules: [rule])])
        let allowed = allowSet.evaluate(facts).isAllowed
        let denied = !denySet.evaluate(facts).isAllowed
        let agrees = allowSet.explain(facts).decision == allowSet.evaluate(facts)
            && denySet.explain(facts).decision == denySet.evaluate(facts)
            && allowSet.explain(facts).policies.first?.matched == matches
        return (allowed, denied, agrees)
    }
}
