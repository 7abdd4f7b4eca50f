// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftPolicy

/// The waypoint's `explain`: same decision as `evaluate`, reasons naming the HTTP fields that decided, and a
/// trace of every policy bound to the waypoint or the request's Service, through the node's trace code.
@Suite("Waypoint: explanations")
struct WaypointExplainTests {
    @Test func denyReasonNamesPolicyRuleAndHTTPField() {
        let set = waypointSet([
            waypointPolicy(
                "deny-admin", .deny,
                rules: [rule(to: [Operation(methods: ["POST"])]), rule(to: [Operation(paths: ["/admin*"])])])
        ])
        let explanation = set.explain(request(path: "/admin/users"))
        #expect(explanation.decision == set.evaluate(request(path: "/admin/users")))
        #expect(
            explanation.reason
                == "denied by DENY policy shop/deny-admin rule 1 (policies.yaml:4): to[0].operation.paths: path "
                + "\"/admin/users\" matched \"/admin*\"")
    }

    @Test func hostAndHeaderDetails() throws {
        let set = waypointSet([
            waypointPolicy(
                "allow", .allow,
                rules: [
                    rule(
                        to: [Operation(hosts: ["WEB.shop.svc.cluster.local"])],
                        when: [Condition(key: "request.headers[X-Token]", values: ["abc"])])
                ])
        ])
        let withPort = request(host: "web.shop.svc.cluster.local:8080", headers: [("x-token", "abc")])
        #expect(
            set.explain(withPort).reason
                == "allowed by ALLOW policy shop/allow rule 0 (policies.yaml:4): to[0].operation.hosts: host "
                + "\"web.shop.svc.cluster.local\" (authority \"web.shop.svc.cluster.local:8080\") matched "
                + "\"WEB.shop.svc.cluster.local\"; when[0].values: header x-token \"abc\" matched \"abc\"")
        let details = try #require(set.explain(request()).policies.first?.rules.first?.details)
        #expect(details.last == "when[0]: no match — when[0].values: no header x-token in the request cannot match [\"abc\"]")
    }

    @Test func absentJWTAttributesAreExplained() throws {
        let set = waypointSet([
            waypointPolicy(
                "jwt", .allow,
                rules: [
                    rule(from: [Source(requestPrincipals: ["*"])]),
                    rule(when: [Condition(key: "request.auth.claims[groups]", notValues: ["banned"])]),
                ])
        ])
        let explanation = set.explain(request())
        let rules = try #require(explanation.policies.first?.rules)
        #expect(
            rules[0].details == [
                "from: no match — from[0].source.requestPrincipals: no request principal (Weft validates no JWT, so no "
                    + "request has one) cannot match [\"*\"]"
            ])
        #expect(rules[1].matched)
        #expect(
            explanation.reason
                == "allowed by ALLOW policy shop/jwt rule 1 (policies.yaml:4): when[0].notValues: no "
                + "request.auth.claims[groups] (Weft validates no JWT, so no request has one), so none of [\"banned\"] matched")
    }

    @Test func traceCoversEveryBoundPolicy() throws {
        let set = waypointSet([
            waypointPolicy("audit", .audit, rules: [rule()]),
            waypointPolicy("web-get", .allow, targets: [toService("api"), toService("web")], rules: [
                rule(to: [Operation(methods: ["GET"], paths: ["/api/{*}"])]),
            ]),
            waypointPolicy("shadow", .deny, dryRun: true, rules: [rule(to: [Operation(notMethods: ["GET"])])]),
            waypointPolicy("other-service", .deny, targets: [toService("billing")], rules: [rule()]),
            policy("selector", .deny, scope: .selector(LabelSelector(["app": "web"])), rules: [rule()]),
        ])
        let explanation = set.explain(request("DELETE"))
        #expect(explanation.policies.map(\.policy.key) == ["shop/audit", "shop/shadow", "shop/web-get"])
        #expect(explanation.policies[0].status == .ignored("AUDIT policies never change the decision"))
        #expect(explanation.policies[0].scope == .targetRef(toWaypoint))
        #expect(explanation.policies[1].status == .dryRun)
        #expect(explanation.policies[1].matched)
        #expect(explanation.policies[2].scope == .targetRef(toService("web")))
        #expect(explanation.policies[2].rules.map(\.enforcement) == [.enforced])
        #expect(
            explanation.policies[2].rules[0].details == [
                "to: no match — to[0].operation.methods: method \"DELETE\" matched none of [\"GET\"]"
            ])
        let text = explanation.description
        #expect(
            text.hasPrefix(
                "DENY: denied: no ALLOW policy matched; 1 ALLOW policy applies: shop/web-get (policies.yaml:4)\n"
                    + "request: DELETE web.shop.svc.cluster.local/api/items from 10.0.0.5 "
                    + "(spiffe://cluster.local/ns/foo/sa/client) -> 10.1.0.9:8080 Service/shop/web\n"
                    + "dry-run would deny: denied by DENY policy shop/shadow rule 0 (policies.yaml:4)\n"
                    + "policies applying at waypoint shop/waypoint:\n"))
        #expect(text.contains("  DENY policy shop/shadow (policies.yaml:4), targetRef Gateway.gateway.networking.k8s.io/waypoint: would match (dry-run, not enforced)\n"))
        #expect(text.contains("  ALLOW policy shop/web-get (policies.yaml:4), targetRef Service/web: not matched\n"))
        #expect(text.contains("      to: to[0] matched — to[0].operation.notMethods: method \"DELETE\" is none of [\"GET\"]"))
        let get = set.explain(request())
        #expect(
            get.reason
                == "allowed by ALLOW policy shop/web-get rule 0 (policies.yaml:4): to[0].operation.methods: method "
                + "\"GET\" matched \"GET\"; to[0].operation.paths: path \"/api/items\" matched \"/api/{*}\"")
    }

    @Test func emptyAndUnconditional() {
        let none = waypointSet([]).explain(request())
        #expect(none.reason == "allowed: no ALLOW policy applies and no DENY policy applies")
        #expect(none.description.hasSuffix("no AuthorizationPolicy applies at waypoint shop/waypoint"))
        let all = waypointSet([waypointPolicy("allow-all", rules: [rule()])]).explain(request())
        #expect(
            all.reason == "allowed by ALLOW policy shop/allow-all rule 0 (policies.yaml:4): rule 0 has no conditions and "
                + "matches every request")
        #expect(all.policies.first?.rules.first?.details == ["no conditions: matches every request"])
        let unknown = waypointSet([waypointPolicy("odd", rules: [rule(when: [Condition(key: "nope", values: ["x"])])])])
        #expect(
            unknown.explain(request()).policies.first?.rules.first?.details == [
                "when[0]: no match — when[0] has no field that can be tested (empty, or an unknown when key) and matches nothing"
            ])
    }

    @Test func explainAgreesWithEvaluate() {
        let set = waypointSet([
            waypointPolicy("a", .allow, rules: [rule(from: [Source(namespaces: ["foo"])], to: [Operation(methods: ["GET"])])]),
            waypointPolicy("b", .deny, rules: [rule(to: [Operation(paths: ["/admin/{**}"])])]),
            waypointPolicy("c", .allow, targets: [toService("web")], rules: [rule(when: [Condition(key: "request.headers[x-ok]", values: ["1"])])]),
            waypointPolicy("d", .custom, rules: [rule(to: [Operation(hosts: ["*.internal"])])]),
            waypointPolicy("e", .deny, dryRun: true, rules: [rule(to: [Operation(methods: ["PUT"])])]),
        ])
        for facts in [
            request(), request("POST"), request("POST", headers: [("X-OK", "1")]), request(path: "/admin/x"),
            request(host: "db.internal"), request("PUT"), request(plaintext: true), request(service: nil),
        ] {
            #expect(set.explain(facts).decision == set.evaluate(facts), "\(facts)")
        }
        #expect(set.evaluate(request(host: "db.internal:5432")).decidingPolicy?.policy.key == "shop/d")
        #expect(set.evaluate(request("POST", headers: [("X-OK", "1")])).decidingPolicy?.policy.key == "shop/c")
        #expect(set.evaluate(request("PUT")).dryRun?.verdict == .deny)
    }
}
