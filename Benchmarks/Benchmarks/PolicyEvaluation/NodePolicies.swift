// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import BenchmarkSupport
import WeftModel
import WeftPolicy

/// The node's generated cluster: 10 000 AuthorizationPolicies, 20 in the root namespace and 20 in each of 499
/// application namespaces, shaped like what a platform team and application teams write.
///
/// Root namespace (`istio-system`, applying mesh-wide): 14 DENY blocklists of three CIDRs each, 3 DENYs of an
/// admin port from outside `istio-system`, and 3 ALLOW policies selecting infrastructure workloads (ingress
/// gateway, Prometheus, DNS) in every namespace.
///
/// Each namespace `ns-<k>` (apps `app-0` … `app-9`):
/// - `deny-quarantine`: DENY from two quarantine CIDRs, except to the health-check port (`when`
///   `destination.port` `notValues`);
/// - `allow-monitoring`, `allow-same-namespace`: namespace-wide ALLOWs by source namespace (and port);
/// - `allow-app-<j>` (10): ALLOW selecting `app: app-<j>`, rule 0 from two principals of neighbouring
///   namespaces or a service account of a third, to ports 8080/8443; rule 1 from the ingress gateway to 8080;
/// - `deny-app-<j>-admin` (5): DENY selecting `app: app-<j>` from other namespaces to admin ports;
/// - `deny-plaintext`: DENY `notPrincipals: ["*"]` (Istio's "require mTLS" idiom);
/// - `allow-legacy-vms`: ALLOW selecting `version: v1` from a CIDR minus a subnet.
enum NodePolicies {
    static let rootNamespace = "istio-system"
    static let namespaces = 499
    static let perNamespace = 20
    static let count = perNamespace * (namespaces + 1)

    static func make() -> [AuthorizationPolicy] {
        var policies = rootPolicies()
        policies.reserveCapacity(count)
        for k in 0..<namespaces { policies += namespacePolicies(k) }
        return policies
    }

    static func namespace(_ k: Int) -> String { "ns-\(k % namespaces)" }

    static func rootPolicies() -> [AuthorizationPolicy] {
        var policies: [AuthorizationPolicy] = []
        for b in 0..<14 {
            let blocks = ["203.0.113.\(b * 16)/28", "198.51.\(b).0/24", "100.\(64 + b).0.0/16"].map(cidr)
            let blocklist = rule(from: [.init(ipBlocks: blocks)])
            policies.append(policy("mesh-deny-blocklist-\(b)", rootNamespace, .deny, rules: [blocklist]))
        }
        for (p, port) in [15000, 15004, 15053].enumerated() {
            let admin = rule(from: [.init(notNamespaces: [rootNamespace])], to: [.init(ports: [UInt16(port)])])
            policies.append(policy("mesh-deny-admin-\(p)", rootNamespace, .deny, rules: [admin]))
        }
        policies.append(
            policy(
                "ingress-allow-all", rootNamespace, .allow, scope: selecting(["app": "istio-ingressgateway"]),
                rules: [rule()]))
        policies.append(
            policy(
                "prometheus-allow", rootNamespace, .allow, scope: selecting(["app": "prometheus"]),
                rules: [rule(from: [.init(namespaces: ["monitoring"])])]))
        policies.append(
            policy(
                "dns-allow", rootNamespace, .allow, scope: selecting(["k8s-app": "kube-dns"]),
                rules: [rule(to: [.init(ports: [53, 9153])])]))
        return policies
    }

    static func namespacePolicies(_ k: Int) -> [AuthorizationPolicy] {
        let ns = namespace(k)
        var policies: [AuthorizationPolicy] = []
        let quarantine = rule(
            from: [.init(ipBlocks: [cidr("192.168.\(k % 250).0/24"), cidr("172.16.\(k % 16 * 16).0/20")])],
            when: [.init(key: "destination.port", notValues: ["15021"])])
        policies.append(policy("deny-quarantine", ns, .deny, rules: [quarantine]))
        policies.append(
            policy(
                "allow-monitoring", ns, .allow,
                rules: [rule(from: [.init(namespaces: ["monitoring"])], to: [.init(ports: [9090, 15020])])]))
        policies.append(policy("allow-same-namespace", ns, .allow, rules: [rule(from: [.init(namespaces: [ns])])]))
        for j in 0..<10 {
            let client = "app-\(j)-client"
            let callers = AuthorizationPolicy.Source(
                principals: [principal(namespace(k + 1), client), principal(namespace(k + 2), client)])
            let account = AuthorizationPolicy.Source(serviceAccounts: ["\(namespace(k + 3))/\(client)"])
            let ingress = AuthorizationPolicy.Source(principals: [principal("istio-ingress", "istio-ingressgateway")])
            policies.append(
                policy(
                    "allow-app-\(j)", ns, .allow, scope: selecting(["app": "app-\(j)"]),
                    rules: [
                        rule(from: [callers, account], to: [.init(ports: [8080, 8443])]),
                        rule(from: [ingress], to: [.init(ports: [8080])]),
                    ]))
        }
        for j in 0..<5 {
            let admin = rule(from: [.init(notNamespaces: [ns])], to: [.init(ports: [9901, 15000])])
            policies.append(
                policy("deny-app-\(j)-admin", ns, .deny, scope: selecting(["app": "app-\(j)"]), rules: [admin]))
        }
        policies.append(policy("deny-plaintext", ns, .deny, rules: [rule(from: [.init(notPrincipals: ["*"])])]))
        let vms = AuthorizationPolicy.Source(ipBlocks: [cidr("10.64.0.0/10")], notIpBlocks: [cidr("10.64.1.0/24")])
        policies.append(
            policy(
                "allow-legacy-vms", ns, .allow, scope: selecting(["version": "v1"]),
                rules: [rule(from: [vms], to: [.init(ports: [8080])])]))
        return policies
    }
}

/// One connection to authorize against ``NodePolicies`` and the decision it must get.
enum NodeScenario: CaseIterable {
    /// Allowed by `ns-250/allow-app-3` rule 0: a principal of `ns-251` to port 8080.
    case allowedByPrincipal
    /// Denied by `ns-250/deny-quarantine`: a source in its quarantine CIDR (an identity of the namespace itself,
    /// which `allow-same-namespace` would otherwise allow).
    case deniedByIPBlock
    /// Denied because the three ALLOW policies that apply (monitoring, same namespace, app-3) do not match an
    /// identity of `ns-7`.
    case noAllowMatched
    /// Allowed because no ALLOW policy applies: a namespace without policies; only the 17 mesh-wide DENYs run.
    case noAllowApplies

    var title: String {
        switch self {
        case .allowedByPrincipal: "allowed by principal + port"
        case .deniedByIPBlock: "denied by an ipBlocks DENY"
        case .noAllowMatched: "no ALLOW matched (deny)"
        case .noAllowApplies: "no ALLOW applies (allow)"
        }
    }

    /// The destination: `app-3` in `ns-250`, with the labels a Deployment's pod has.
    static let labels = ["app": "app-3", "version": "v2", "pod-template-hash": "7d9f5c8b4"]

    var facts: ConnectionFacts {
        switch self {
        case .allowedByPrincipal:
            connection(from: "10.12.4.7", identity: ("ns-251", "app-3-client"))
        case .deniedByIPBlock:
            connection(from: "192.168.0.9", identity: ("ns-250", "worker"))
        case .noAllowMatched:
            connection(from: "10.12.4.7", identity: ("ns-7", "app-3-client"))
        case .noAllowApplies:
            connection(
                from: "10.12.4.7", identity: ("ns-251", "app-3-client"), namespace: "legacy", labels: ["app": "web"])
        }
    }

    /// The exact decision, deciding policy and rule included.
    var expected: Decision {
        let location = { (name: String) in manifestLocation("ns-250", name) }
        switch self {
        case .allowedByPrincipal:
            let reference = PolicyReference(
                namespace: "ns-250", name: "allow-app-3", action: .allow, location: location("allow-app-3"))
            return Decision(verdict: .allow, cause: .allowedByPolicy(reference, rule: 0))
        case .deniedByIPBlock:
            let reference = PolicyReference(
                namespace: "ns-250", name: "deny-quarantine", action: .deny, location: location("deny-quarantine"))
            return Decision(verdict: .deny, cause: .deniedByPolicy(reference, rule: 0))
        case .noAllowMatched:
            return Decision(verdict: .deny, cause: .noAllowPolicyMatched(allowPolicies: 3))
        case .noAllowApplies:
            return Decision(verdict: .allow, cause: .noAllowPolicy)
        }
    }

    /// How many policies apply to the destination (what one evaluation visits).
    var applying: Int {
        switch self {
        case .allowedByPrincipal, .deniedByIPBlock, .noAllowMatched: 17 + 6
        case .noAllowApplies: 17
        }
    }

    private func connection(
        from source: String, identity: (namespace: String, account: String), namespace: String = "ns-250",
        labels: [String: String] = Self.labels
    ) -> ConnectionFacts {
        ConnectionFacts(
            sourceIP: address(source),
            sourceIdentity: SPIFFEID(
                trustDomain: "cluster.local", namespace: identity.namespace, serviceAccount: identity.account),
            destinationIP: address("10.1.0.9"), destinationPort: 8080, destinationNamespace: namespace,
            destinationLabels: labels, destinationName: "Pod/\(namespace)/app-3-7d9f5c8b4-x2x9q")
    }
}

/// A compiled node policy set and one connection to authorize.
struct NodeFixture: Sendable {
    let set: PolicySet
    let facts: ConnectionFacts
    let expected: Decision

    /// Compiles the policies and checks that the scenario gets exactly its decision, and that the index
    /// yields the policies a scan of the model says apply (so a fast evaluation is not a wrong one).
    init(_ scenario: NodeScenario) throws {
        let policies = NodePolicies.make()
        set = PolicySet(policies, rootNamespace: NodePolicies.rootNamespace)
        facts = scenario.facts
        expected = scenario.expected
        guard set.count == NodePolicies.count else {
            throw BenchmarkCheckFailed("PolicySet compiled \(set.count) of \(NodePolicies.count) policies")
        }
        let indexed = set.policies(applyingToNamespace: facts.destinationNamespace, labels: facts.destinationLabels)
        let scanned = policies.filter {
            $0.applies(
                toNamespace: facts.destinationNamespace, labels: facts.destinationLabels,
                rootNamespace: NodePolicies.rootNamespace)
        }
        guard indexed.count == scenario.applying, Set(indexed.map(\.key)) == Set(scanned.map(\.key)) else {
            throw BenchmarkCheckFailed(
                "\(indexed.count) policies apply by the index, \(scanned.count) by a scan, "
                    + "expected \(scenario.applying)")
        }
        let decision = set.evaluate(facts)
        guard decision == expected else {
            throw BenchmarkCheckFailed("\(scenario): expected \(expected), got \(decision)")
        }
    }
}
