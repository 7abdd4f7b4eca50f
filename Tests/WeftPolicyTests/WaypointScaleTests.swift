// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// 10 000 policies: a request visits only the policies bound to the waypoint and to its Service, and the
/// decisions agree with a brute-force reading of the semantics. The time is measured and printed, not
/// asserted (it depends on the machine and the build configuration).
@Suite("Waypoint: scale")
struct WaypointScaleTests {
    static let methods = ["GET", "POST", "PUT"]

    /// 100 namespaces × 20 services, 10 000 policies: mostly Service-bound ALLOW/DENY policies with HTTP
    /// fields, a few bound to the waypoint, and some that must be ignored (another waypoint, a selector).
    static let policies: [AuthorizationPolicy] = {
        var result: [AuthorizationPolicy] = []
        for i in 0..<10_000 {
            let namespace = "ns-\(i % 100)"
            let action: AuthorizationPolicy.Action = i % 5 == 0 ? .deny : .allow
            var operation = Operation(methods: [methods[i % 3]], paths: ["/v\(i % 4)/*"])
            if i % 11 == 0 { operation.paths = ["/v\(i % 4)/{*}/items"] }
            if i % 13 == 0 { operation.hosts = ["*.\(namespace).svc.cluster.local"] }
            var conditions: [Condition] = []
            if i % 3 == 0 { conditions.append(Condition(key: "request.headers[x-tenant]", values: ["t\(i % 9)"])) }
            let source = Source(namespaces: ["client-\(i % 7)"])
            let rules = [rule(from: [source], to: [operation], when: conditions)]
            let scope: AuthorizationPolicy.Scope
            switch i % 50 {
            case 7:
                scope = .targetRefs([AuthorizationPolicy.TargetReference(group: "gateway.networking.k8s.io", kind: "Gateway", name: "other")])
            case 8:
                scope = .selector(LabelSelector(["app": "svc-\(i % 20)"]))
            default:
                scope = .targetRefs([toService("svc-\((i / 100) % 20)")])
            }
            result.append(policy("p-\(i)", action, namespace: namespace, scope: scope, rules: rules))
        }
        for w in 0..<5 {
            let deny = rule(to: [Operation(paths: ["/admin/{**}"])], when: [Condition(key: "request.headers[x-debug]", values: ["*"])])
            result.append(waypointPolicy("waypoint-\(w)", .deny, rules: w == 0 ? [deny] : [rule(from: [Source(namespaces: ["banned-\(w)"])])]))
        }
        return result
    }()

    static func facts(_ i: Int) -> RequestFacts {
        let namespace = "ns-\(i % 100)"
        let path = i % 17 == 0 ? "/admin/x" : (i % 5 == 0 ? "/v\(i % 4)/abc/items" : "/v\(i % 4)/x")
        var headers: [(name: String, value: String)] = [("X-Tenant", "t\(i % 9)")]
        if i % 23 == 0 { headers.append(("x-debug", "1")) }
        return request(
            methods[i % 3], path: path, host: "svc-\(i % 20).\(namespace).svc.cluster.local", headers: headers,
            identity: identity("client-\(i % 7)", "sa"), plaintext: i % 29 == 0,
            service: RequestFacts.ServiceName(namespace: namespace, name: "svc-\(i % 20)"))
    }

    /// Whether `policy` binds to waypoint `shop/waypoint` for `service`, read off the model.
    static func binds(_ policy: AuthorizationPolicy, _ service: RequestFacts.ServiceName?) -> Bool {
        guard case .targetRefs(let targets) = policy.scope else { return false }
        return targets.contains { target in
            (target.kind == "Gateway" && target.name == waypointName && policy.namespace == waypointNamespace)
                || (target.kind == "Service" && service?.namespace == policy.namespace && service?.name == target.name)
        }
    }

    /// The semantics read directly off the model: the applicable policies, each matched on its own.
    static func bruteForce(_ facts: RequestFacts) -> Decision.Verdict {
        let applying = policies.filter { binds($0, facts.service) }
        let matches = { (policy: AuthorizationPolicy) in waypointSet([policy]).explain(facts).policies.first?.matched == true }
        if applying.contains(where: { $0.action == .deny && matches($0) }) { return .deny }
        let allows = applying.filter { $0.action == .allow }
        if allows.isEmpty { return .allow }
        return allows.contains(where: matches) ? .allow : .deny
    }

    @Test func tenThousandPolicies() {
        let set = waypointSet(Self.policies)
        #expect(set.count == 10_005 - 200 - 200, "another waypoint's and selector policies are left out")
        #expect(set.policies(applyingTo: RequestFacts.ServiceName(namespace: "ns-3", name: "svc-0")).count == 5 + 5)
        var verdicts: [Decision.Verdict: Int] = [:]
        for i in stride(from: 0, to: 2_000, by: 3) {
            let facts = Self.facts(i)
            let verdict = set.evaluate(facts).verdict
            verdicts[verdict, default: 0] += 1
            #expect(verdict == Self.bruteForce(facts), "request \(i): \(facts)")
        }
        #expect(verdicts[.allow, default: 0] > 0 && verdicts[.deny, default: 0] > 0)

        let requests = (0..<500).map(Self.facts)
        let clock = ContinuousClock()
        var allowed = 0
        let rounds = 40
        let elapsed = clock.measure {
            for _ in 0..<rounds {
                for facts in requests where set.evaluate(facts).isAllowed { allowed += 1 }
            }
        }
        #expect(allowed > 0 && allowed < rounds * requests.count)
        let perRequest = elapsed / (rounds * requests.count)
        print("WaypointPolicySet: \(rounds * requests.count) evaluations over \(set.count) policies in \(elapsed) (\(perRequest) each)")
    }
}
