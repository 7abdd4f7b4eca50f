// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import BenchmarkSupport
import WeftModel
import WeftPolicy

/// A shared waypoint's generated policies: 10 000 `targetRefs` AuthorizationPolicies with HTTP fields.
///
/// - 10 bound to the waypoint's Gateway (`infra/waypoint`), so applying to every request: 6 DENY blocklists,
///   a DENY of `/internal/{**}`, a DENY on the presence of an `x-debug` header, a DENY of TRACE/CONNECT and an
///   AUDIT of `/login`;
/// - 9 990 bound to Services: 333 namespaces `app-<k>` × 6 Services `svc-<s>` × 5 policies each:
///   `svc-<s>-read` (ALLOW GET/HEAD on `/api/v1/*` and `/healthz` from two namespaces or the ingress gateway),
///   `svc-<s>-write` (ALLOW POST/PUT/PATCH on `/api/v1/items/{*}` and `/api/v1/orders` from the namespace's
///   frontend, `when` an `x-tenant` header has the namespace's tenant), `svc-<s>-deny-admin` (DENY
///   `/admin/{**}` and `/debug/*` from outside `ops`), `svc-<s>-deny-tools` (DENY `user-agent` `curl/*` or
///   `python-requests/*`) and `svc-<s>-cors` (ALLOW OPTIONS for two hosts).
enum WaypointPolicies {
    static let waypointNamespace = "infra"
    static let waypointName = "waypoint"
    static let namespaces = 333
    static let servicesPerNamespace = 6
    static let waypointWide = 10
    static let count = waypointWide + namespaces * servicesPerNamespace * 5

    static func make() -> [AuthorizationPolicy] {
        var policies = waypointPolicies()
        policies.reserveCapacity(count)
        for k in 0..<namespaces {
            for s in 0..<servicesPerNamespace { policies += servicePolicies(namespace: k, service: s) }
        }
        return policies
    }

    static func waypointPolicies() -> [AuthorizationPolicy] {
        let gateway = AuthorizationPolicy.TargetReference(
            group: WaypointPolicySet.gatewayGroup, kind: "Gateway", name: waypointName)
        let bound = { (name: String, action: AuthorizationPolicy.Action, rules: [AuthorizationPolicy.Rule]) in
            policy(name, waypointNamespace, action, scope: .targetRefs([gateway]), rules: rules)
        }
        var policies: [AuthorizationPolicy] = []
        for b in 0..<6 {
            let blocks = ["203.0.113.\(b * 16)/28", "198.51.\(b).0/24", "100.\(64 + b).0.0/16"].map(cidr)
            policies.append(bound("waypoint-deny-blocklist-\(b)", .deny, [rule(from: [.init(ipBlocks: blocks)])]))
        }
        policies.append(bound("waypoint-deny-internal", .deny, [rule(to: [.init(paths: ["/internal/{**}"])])]))
        let debug = rule(when: [.init(key: "request.headers[x-debug]", values: ["*"])])
        policies.append(bound("waypoint-deny-debug-header", .deny, [debug]))
        policies.append(bound("waypoint-deny-trace", .deny, [rule(to: [.init(methods: ["TRACE", "CONNECT"])])]))
        policies.append(bound("waypoint-audit-login", .audit, [rule(to: [.init(paths: ["/login"])])]))
        return policies
    }

    static func namespace(_ k: Int) -> String { "app-\(k % namespaces)" }

    static func servicePolicies(namespace k: Int, service s: Int) -> [AuthorizationPolicy] {
        let ns = namespace(k)
        let service = AuthorizationPolicy.TargetReference(group: "", kind: "Service", name: "svc-\(s)")
        let bound = { (name: String, action: AuthorizationPolicy.Action, rules: [AuthorizationPolicy.Rule]) in
            policy("svc-\(s)-\(name)", ns, action, scope: .targetRefs([service]), rules: rules)
        }
        let ingress = principal("istio-ingress", "istio-ingressgateway")
        let read = rule(
            from: [.init(namespaces: [ns, namespace(k + 1)]), .init(principals: [ingress])],
            to: [.init(methods: ["GET", "HEAD"], paths: ["/api/v1/*", "/healthz"])])
        let write = rule(
            from: [.init(principals: [principal(ns, "frontend")])],
            to: [.init(methods: ["POST", "PUT", "PATCH"], paths: ["/api/v1/items/{*}", "/api/v1/orders"])],
            when: [.init(key: "request.headers[x-tenant]", values: ["tenant-\(k)", "tenant-shared"])])
        let admin = rule(from: [.init(notNamespaces: ["ops"])], to: [.init(paths: ["/admin/{**}", "/debug/*"])])
        let tools = rule(when: [.init(key: "request.headers[user-agent]", values: ["curl/*", "python-requests/*"])])
        let cors = rule(
            to: [.init(hosts: ["svc-\(s).\(ns).svc.cluster.local", "*.example.com"], methods: ["OPTIONS"])])
        return [
            bound("read", .allow, [read]),
            bound("write", .allow, [write]),
            bound("deny-admin", .deny, [admin]),
            bound("deny-tools", .deny, [tools]),
            bound("cors", .allow, [cors]),
        ]
    }
}

/// One request to authorize against ``WaypointPolicies`` and the decision it must get.
enum WaypointScenario: CaseIterable {
    /// Allowed by `app-166/svc-3-write` rule 0: POST to a `{*}` path template, with the tenant header.
    case allowedByRequest
    /// Denied by `app-166/svc-3-deny-admin`: GET under `/admin/{**}`.
    case deniedByPath
    /// Denied: DELETE is in none of the three ALLOW policies bound to the Service.
    case noAllowMatched
    /// Allowed: a Service no policy is bound to; only the 10 waypoint-wide policies (no ALLOW) run.
    case noPolicyBound

    var title: String {
        switch self {
        case .allowedByRequest: "allowed by method + path + header"
        case .deniedByPath: "denied by a path DENY"
        case .noAllowMatched: "no ALLOW matched (deny)"
        case .noPolicyBound: "no policy bound to the Service (allow)"
        }
    }

    static let service = RequestFacts.ServiceName(namespace: "app-166", name: "svc-3")

    var facts: RequestFacts {
        switch self {
        case .allowedByRequest: request("POST", "/api/v1/items/42")
        case .deniedByPath: request("GET", "/admin/users")
        case .noAllowMatched: request("DELETE", "/api/v1/items/42")
        case .noPolicyBound:
            request(
                "GET", "/api/v1/accounts", service: RequestFacts.ServiceName(namespace: "billing", name: "ledger"),
                authority: "ledger.billing.svc.cluster.local:8080")
        }
    }

    var expected: Decision {
        let reference = { (name: String, action: AuthorizationPolicy.Action) in
            PolicyReference(
                namespace: "app-166", name: name, action: action,
                location: manifestLocation("app-166", name))
        }
        switch self {
        case .allowedByRequest:
            return Decision(verdict: .allow, cause: .allowedByPolicy(reference("svc-3-write", .allow), rule: 0))
        case .deniedByPath:
            return Decision(verdict: .deny, cause: .deniedByPolicy(reference("svc-3-deny-admin", .deny), rule: 0))
        case .noAllowMatched:
            return Decision(verdict: .deny, cause: .noAllowPolicyMatched(allowPolicies: 3))
        case .noPolicyBound:
            return Decision(verdict: .allow, cause: .noAllowPolicy)
        }
    }

    /// How many policies apply to the request (what one evaluation visits).
    var applying: Int {
        self == .noPolicyBound ? WaypointPolicies.waypointWide : WaypointPolicies.waypointWide + 5
    }

    /// A request from `app-166`'s frontend with the headers a browser-originated API call carries.
    private func request(
        _ method: String, _ path: String, service: RequestFacts.ServiceName = Self.service,
        authority: String = "svc-3.app-166.svc.cluster.local:8080"
    ) -> RequestFacts {
        let connection = ConnectionFacts(
            sourceIP: address("10.20.1.7"),
            sourceIdentity: SPIFFEID(trustDomain: "cluster.local", namespace: "app-166", serviceAccount: "frontend"),
            destinationIP: address("10.1.166.3"), destinationPort: 8080, destinationNamespace: service.namespace)
        let headers = [
            ("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
            ("Accept", "application/json"),
            ("content-type", "application/json"),
            ("X-Tenant", "tenant-166"),
            ("x-request-id", "8f0e4c8e-2b9a-4c55-9a51-6a3d2f1b7c90"),
            ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ]
        return RequestFacts(
            connection: connection, service: service, method: method, authority: authority, path: path,
            headers: headers.map { (name: $0.0, value: $0.1) })
    }
}

/// A compiled waypoint policy set and one request to authorize.
struct WaypointFixture: Sendable {
    let set: WaypointPolicySet
    let facts: RequestFacts
    let expected: Decision

    /// Compiles the policies and checks the scenario's exact decision, and that the index yields the policies
    /// that bind to the request's Service or to the waypoint, read off the model.
    init(_ scenario: WaypointScenario) throws {
        let policies = WaypointPolicies.make()
        set = WaypointPolicySet.make(policies)
        facts = scenario.facts
        expected = scenario.expected
        guard set.count == WaypointPolicies.count else {
            throw BenchmarkCheckFailed("WaypointPolicySet bound \(set.count) of \(WaypointPolicies.count) policies")
        }
        let indexed = set.policies(applyingTo: facts.service)
        let scanned = policies.filter { Self.binds($0, to: facts.service) }
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

    /// Whether `policy` binds to the waypoint itself or to `service`, from its `targetRefs`.
    static func binds(_ policy: AuthorizationPolicy, to service: RequestFacts.ServiceName?) -> Bool {
        guard case .targetRefs(let targets) = policy.scope else { return false }
        return targets.contains { target in
            (target.kind == "Gateway" && target.name == WaypointPolicies.waypointName
                && policy.namespace == WaypointPolicies.waypointNamespace)
                || (target.kind == "Service" && policy.namespace == service?.namespace && target.name == service?.name)
        }
    }
}

extension WaypointPolicySet {
    /// The policy set of the generated waypoint.
    static func make(_ policies: [AuthorizationPolicy]) -> WaypointPolicySet {
        WaypointPolicySet(
            policies, waypointNamespace: WaypointPolicies.waypointNamespace,
            waypointName: WaypointPolicies.waypointName, rootNamespace: NodePolicies.rootNamespace)
    }
}
