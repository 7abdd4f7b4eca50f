// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// Istio's order at a waypoint (CUSTOM, DENY, no ALLOW → allow, ALLOW, otherwise deny), which policies bind
/// to the waypoint, dry-run, and the shape of a denial.
@Suite("Waypoint: evaluation order and binding")
struct WaypointEvaluationTests {
    let getItems = rule(to: [Operation(methods: ["GET"], paths: ["/api/*"])])
    let postOnly = rule(to: [Operation(methods: ["POST"])])
    let adminPaths = rule(to: [Operation(paths: ["/admin", "/admin/*"])])

    // MARK: - Order

    @Test func noPoliciesAllow() {
        #expect(waypointSet([]).evaluate(request()) == Decision(verdict: .allow, cause: .noAllowPolicy))
    }

    @Test func denyBeatsAllow() {
        let set = waypointSet([
            waypointPolicy("allow-get", .allow, rules: [getItems]), waypointPolicy("deny-get", .deny, rules: [postOnly, getItems]),
        ])
        let decision = set.evaluate(request())
        #expect(decision.verdict == .deny)
        #expect(decision.decidingPolicy?.policy.key == "shop/deny-get")
        #expect(decision.decidingPolicy?.rule == 1)
        #expect(decision.responseCodeDetails == "rbac_access_denied_matched_policy[ns[shop]-policy[deny-get]-rule[1]]")
        #expect(set.evaluate(request("PUT")).verdict == .deny, "allow-get does not match PUT")
    }

    @Test func nonMatchingDenyAndNoAllowAllows() {
        let set = waypointSet([waypointPolicy("deny-admin", .deny, rules: [adminPaths])])
        #expect(set.evaluate(request()) == Decision(verdict: .allow, cause: .noAllowPolicy))
        #expect(set.evaluate(request(path: "/admin/users")).verdict == .deny)
        #expect(set.evaluate(request(path: "/admin")).verdict == .deny)
        #expect(set.evaluate(request(path: "/administrator")).verdict == .allow)
    }

    @Test func allowPresentButNoneMatchedDenies() {
        let set = waypointSet([
            waypointPolicy("allow-post", .allow, rules: [postOnly]), waypointPolicy("allow-admin", .allow, rules: [adminPaths]),
        ])
        let decision = set.evaluate(request())
        #expect(decision == Decision(verdict: .deny, cause: .noAllowPolicyMatched(allowPolicies: 2)))
        #expect(decision.responseCodeDetails == "rbac_access_denied_matched_policy[none]")
        #expect(Decision.deniedHTTPStatus == 403)
        #expect(Decision.deniedHTTPBody == "RBAC: access denied")
        #expect(Decision.deniedHTTPBody.utf8.count == 19)
    }

    @Test func matchingAllowAllowsAndNamesTheRule() {
        let set = waypointSet([waypointPolicy("allow", .allow, rules: [postOnly, getItems])])
        let decision = set.evaluate(request())
        #expect(decision.verdict == .allow)
        #expect(decision.decidingPolicy?.rule == 1)
        #expect(decision.responseCodeDetails == nil)
        #expect(decision.description == "allowed by ALLOW policy shop/allow rule 1 (policies.yaml:4)")
    }

    @Test func emptyPolicies() {
        #expect(waypointSet([waypointPolicy("allow-nothing", .allow, rules: [])]).evaluate(request()).verdict == .deny)
        #expect(waypointSet([waypointPolicy("allow-all", .allow, rules: [rule()])]).evaluate(request()).verdict == .allow)
        #expect(waypointSet([waypointPolicy("deny-all", .deny, rules: [rule()])]).evaluate(request()).verdict == .deny)
        #expect(waypointSet([waypointPolicy("deny-none", .deny, rules: [])]).evaluate(request()).verdict == .allow)
    }

    @Test func firstPolicyInNameOrderIsReported() {
        let set = waypointSet([
            waypointPolicy("z-deny", .deny, rules: [rule()]), waypointPolicy("a-deny", .deny, rules: [rule()]),
            waypointPolicy("m-deny", .deny, namespace: "istio-system", targets: [toWaypointClass], rules: [rule()]),
        ])
        #expect(set.evaluate(request()).decidingPolicy?.policy.key == "istio-system/m-deny")
    }

    @Test func auditIsIgnored() {
        let set = waypointSet([waypointPolicy("audit", .audit, rules: [rule()])])
        #expect(set.evaluate(request()) == Decision(verdict: .allow, cause: .noAllowPolicy))
        let withAllow = waypointSet([waypointPolicy("audit", .audit, rules: [rule()]), waypointPolicy("allow-post", rules: [postOnly])])
        #expect(withAllow.evaluate(request()) == Decision(verdict: .deny, cause: .noAllowPolicyMatched(allowPolicies: 1)))
    }

    /// Weft has no ext-authz client: a matching CUSTOM policy denies (fail closed), before any DENY.
    @Test func customFailsClosed() {
        let set = waypointSet([
            waypointPolicy("ext", .custom, rules: [adminPaths]), waypointPolicy("a-deny", .deny, rules: [rule()]),
            waypointPolicy("allow-all", .allow, rules: [rule()]),
        ])
        let admin = set.evaluate(request(path: "/admin"))
        #expect(admin.verdict == .deny)
        #expect(admin.decidingPolicy?.policy.key == "shop/ext")
        #expect(admin.decidingPolicy?.policy.action == .custom)
        #expect(set.evaluate(request()).decidingPolicy?.policy.key == "shop/a-deny")
        let onlyCustom = waypointSet([waypointPolicy("ext", .custom, rules: [adminPaths])])
        #expect(onlyCustom.evaluate(request()) == Decision(verdict: .allow, cause: .noAllowPolicy))
        #expect(onlyCustom.evaluate(request(path: "/admin/x")).verdict == .deny)
        #expect(onlyCustom.explain(request(path: "/admin/x")).reason.contains("a matching CUSTOM policy denies"))
    }

    // MARK: - Dry-run

    @Test func dryRunIsEvaluatedNeverEnforced() throws {
        let set = waypointSet([
            waypointPolicy("deny-get", .deny, dryRun: true, rules: [getItems]),
            waypointPolicy("allow-post", .allow, dryRun: true, rules: [postOnly]),
        ])
        let decision = set.evaluate(request())
        #expect(decision.verdict == .allow)
        #expect(decision.cause == .noAllowPolicy)
        let applying = set.policies(applyingTo: webService)
        let denyGet = try #require(applying.first { $0.name == "deny-get" })
        let allowPost = try #require(applying.first { $0.name == "allow-post" })
        let dryRun = try #require(decision.dryRun)
        #expect(dryRun.verdict == .deny)
        #expect(dryRun.cause == .deniedByPolicy(PolicyReference(denyGet), rule: 0))
        #expect(
            decision.description
                == "allowed: no DENY policy matched and no ALLOW policy applies; dry-run would deny: denied by DENY "
                + "policy shop/deny-get rule 0 (policies.yaml:4)")
        let post = set.evaluate(request("POST"))
        #expect(post.verdict == .allow)
        #expect(post.dryRun == Decision.DryRun(verdict: .allow, cause: .allowedByPolicy(PolicyReference(allowPost), rule: 0)))
        let put = set.evaluate(request("PUT"))
        #expect(put.dryRun == Decision.DryRun(verdict: .deny, cause: .noAllowPolicyMatched(allowPolicies: 1)))
    }

    @Test func dryRunShadowIncludesEnforcedPolicies() {
        let set = waypointSet([
            waypointPolicy("allow-get", .allow, rules: [getItems]),
            waypointPolicy("would-allow-post", .allow, dryRun: true, rules: [postOnly]),
        ])
        #expect(set.evaluate(request("POST")).verdict == .deny)
        #expect(set.evaluate(request("POST")).dryRun?.verdict == .allow)
        #expect(set.evaluate(request()).dryRun?.verdict == .allow)
        #expect(waypointSet([waypointPolicy("allow-get", .allow, rules: [getItems])]).evaluate(request()).dryRun == nil)
    }

    // MARK: - Binding

    static let toWaypointClass = AuthorizationPolicy.TargetReference(
        group: "gateway.networking.k8s.io", kind: "GatewayClass", name: "istio-waypoint")
    var toWaypointClass: AuthorizationPolicy.TargetReference { Self.toWaypointClass }

    /// Which policies a request to `shop/web` through waypoint `shop/waypoint` sees.
    @Test(
        "targetRefs binding",
        arguments: [
            ("Gateway: the waypoint", "shop", [toWaypoint], true),
            ("Gateway: another waypoint", "shop", [AuthorizationPolicy.TargetReference(group: "gateway.networking.k8s.io", kind: "Gateway", name: "other")], false),
            ("Gateway: same name, other namespace", "billing", [toWaypoint], false),
            ("Gateway: wrong group", "shop", [AuthorizationPolicy.TargetReference(group: "", kind: "Gateway", name: "waypoint")], false),
            ("GatewayClass istio-waypoint in the root namespace", "istio-system", [toWaypointClass], true),
            ("GatewayClass istio-waypoint outside the root namespace", "shop", [toWaypointClass], false),
            ("GatewayClass other", "istio-system", [AuthorizationPolicy.TargetReference(group: "gateway.networking.k8s.io", kind: "GatewayClass", name: "istio")], false),
            ("Service: the request's", "shop", [toService("web")], true),
            ("Service: another", "shop", [toService("api")], false),
            ("Service: same name, other namespace", "billing", [toService("web")], false),
            ("Service: group core is the core group", "shop", [AuthorizationPolicy.TargetReference(group: "core", kind: "Service", name: "web")], true),
            ("ServiceEntry with the Service's name", "shop", [AuthorizationPolicy.TargetReference(group: "networking.istio.io", kind: "ServiceEntry", name: "web")], false),
            ("one of several targets", "shop", [toService("api"), toService("web")], true),
            ("waypoint and service together", "shop", [toWaypoint, toService("web")], true),
        ])
    func binding(_ name: String, _ namespace: String, _ targets: [AuthorizationPolicy.TargetReference], _ applies: Bool) {
        let set = waypointSet([waypointPolicy("deny-all", .deny, namespace: namespace, targets: targets, rules: [rule()])])
        #expect(set.evaluate(request()).verdict == (applies ? .deny : .allow), "\(name)")
        #expect(set.policies(applyingTo: webService).count == (applies ? 1 : 0), "\(name)")
    }

    @Test func selectorAndNamespacePoliciesDoNotApply() {
        let policies = [
            policy("ns-wide", .deny, rules: [rule()]),
            policy("selector", .deny, scope: .selector(LabelSelector(["app": "web"])), rules: [rule()]),
            policy("mesh", .deny, namespace: "istio-system", rules: [rule()]),
        ]
        let set = waypointSet(policies)
        #expect(set.count == 0)
        #expect(set.evaluate(request()) == Decision(verdict: .allow, cause: .noAllowPolicy))
        #expect(PolicySet(policies).evaluate(connection()).verdict == .deny, "they are the node's")
    }

    @Test func servicePoliciesApplyOnlyToTheirService() {
        let entry = RequestFacts.ServiceName(kind: .serviceEntry, namespace: "shop", name: "external")
        let set = waypointSet([
            waypointPolicy("web-allow-get", targets: [toService("web")], rules: [getItems]),
            waypointPolicy(
                "external-deny", .deny,
                targets: [AuthorizationPolicy.TargetReference(group: "networking.istio.io", kind: "ServiceEntry", name: "external")],
                rules: [rule()]),
            waypointPolicy("gateway-deny-admin", .deny, rules: [adminPaths]),
        ])
        #expect(set.count == 3)
        #expect(set.evaluate(request("POST")).verdict == .deny)
        #expect(set.evaluate(request("POST", service: RequestFacts.ServiceName(namespace: "shop", name: "api"))).verdict == .allow)
        #expect(set.evaluate(request(service: entry)).decidingPolicy?.policy.key == "shop/external-deny")
        #expect(set.evaluate(request("POST", service: nil)).verdict == .allow, "a workload-addressed request sees only the waypoint's")
        #expect(set.evaluate(request(path: "/admin", service: nil)).verdict == .deny)
        #expect(set.policies(applyingTo: webService).map(\.name) == ["gateway-deny-admin", "web-allow-get"])
        #expect(set.policies(applyingTo: nil).map(\.name) == ["gateway-deny-admin"])
    }

    @Test func builtFromASnapshot() {
        let waypoint = Waypoint(namespace: "shop", name: "waypoint", location: ManifestLocation(file: "gw.yaml", line: 1))
        let snapshot = MeshSnapshot(
            authorizationPolicies: [waypointPolicy("deny-admin", .deny, rules: [adminPaths])], rootNamespace: "istio-system",
            waypoints: [waypoint])
        let set = WaypointPolicySet(snapshot: snapshot, waypoint: waypoint)
        #expect(set.waypointKey == "shop/waypoint")
        #expect(set.rootNamespace == "istio-system")
        #expect(set.evaluate(request(path: "/admin")).verdict == .deny)
    }

    /// The node keeps ignoring `targetRefs` policies; the waypoint enforces what the node could not.
    @Test func nodeAndWaypointSplit() {
        let policies = [
            waypointPolicy("deny-delete", .deny, rules: [rule(from: [Source(namespaces: ["foo"])], to: [Operation(methods: ["DELETE"])])]),
            policy("node-deny-delete", .deny, rules: [rule(from: [Source(namespaces: ["foo"])], to: [Operation(methods: ["DELETE"])])]),
        ]
        let node = PolicySet(policies)
        #expect(node.waypointPolicies.map(\.name) == ["deny-delete"])
        #expect(node.evaluate(connection()).verdict == .allow, "the node's copy has no effect: its to entry keeps no L4 field")
        let waypoint = waypointSet(policies)
        #expect(waypoint.evaluate(request("DELETE")).verdict == .deny)
        #expect(waypoint.evaluate(request("GET")).verdict == .allow)
    }
}
