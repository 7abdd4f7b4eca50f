// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Testing
import WeftConfig
import WeftModel
import WeftRoute

/// GRPCRoute manifests: method matches become path matches, kept apart from HTTPRoutes.
@Suite("GRPCRoute translation")
struct GRPCRouteTests {
    static let mesh = documents(
        namespaceYAML("shop", labels: "istio.io/use-waypoint: waypoint"), waypointYAML(),
        serviceYAML("greeter", port: 50051), serviceYAML("greeter-v2", port: 50051), serviceYAML("audit", port: 50051))

    static let route = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: greeter, namespace: shop}
        spec:
          parentRefs: [{group: "", kind: Service, name: greeter, port: 50051}]
          hostnames: [greeter.shop.svc.cluster.local]
          rules:
          - name: hello
            matches:
            - method: {service: helloworld.Greeter, method: SayHello}
              headers: [{name: x-canary, value: "true"}]
            - method: {service: helloworld.Greeter}
            - method: {method: SayGoodbye}
            - method: {type: RegularExpression, service: "helloworld\\\\..*", method: "Say.*"}
            filters:
            - type: RequestHeaderModifier
              requestHeaderModifier: {add: [{name: x-grpc, value: "1"}]}
            - type: ResponseHeaderModifier
              responseHeaderModifier: {remove: [x-internal]}
            - type: RequestMirror
              requestMirror: {backendRef: {name: audit, port: 50051}}
            backendRefs:
            - name: greeter-v2
              port: 50051
              weight: 3
              filters:
              - type: RequestHeaderModifier
                requestHeaderModifier: {set: [{name: x-version, value: v2}]}
            - {name: greeter, port: 50051}
          - backendRefs: [{name: greeter, port: 50051}]
        """

    @Test("Every field is translated")
    func readsEveryField() throws {
        let result = load(documents(Self.mesh, Self.route))
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let routes = try #require(result.routes)
        #expect(routes.httpRoutes.isEmpty)
        let route = try #require(routes.grpcRoutes.first)
        #expect(route.parentRefs == [.init(name: "greeter", port: 50051)])
        #expect(route.hostnames == ["greeter.shop.svc.cluster.local"])
        #expect(route.rules == [
            HTTPRouteRule(
                name: "hello",
                matches: [
                    HTTPRouteMatch(
                        grpcMethod: GRPCMethodMatch(service: "helloworld.Greeter", method: "SayHello"),
                        headers: [.init(name: "x-canary", value: "true")]),
                    HTTPRouteMatch(grpcMethod: GRPCMethodMatch(service: "helloworld.Greeter")),
                    HTTPRouteMatch(grpcMethod: GRPCMethodMatch(method: "SayGoodbye")),
                    HTTPRouteMatch(
                        grpcMethod: GRPCMethodMatch(.regularExpression, service: "helloworld\\..*", method: "Say.*")),
                ],
                filters: [
                    .requestHeaderModifier(.init(add: [HTTPHeaderField("x-grpc", "1")])),
                    .responseHeaderModifier(.init(remove: ["x-internal"])),
                    .requestMirror(.init(backend: BackendObjectReference(name: "audit", port: 50051))),
                ],
                backendRefs: [
                    HTTPBackendRef(
                        service: "greeter-v2", port: 50051, weight: 3,
                        filters: [.requestHeaderModifier(.init(set: [HTTPHeaderField("x-version", "v2")]))]),
                    HTTPBackendRef(service: "greeter", port: 50051),
                ]),
            HTTPRouteRule(backendRefs: [HTTPBackendRef(service: "greeter", port: 50051)]),
        ])
    }

    @Test("The GRPCRoute table routes by method; the HTTPRoute table is separate")
    func routing() throws {
        // Without the catch-all rule: WeftRoute ranks method-only and regular-expression method matches (as
        // regular-expression paths) below a rule without matches (PathPrefix /).
        let route = Self.route.replacingFirst("  - backendRefs: [{name: greeter, port: 50051}]", with: "")
        let routes = try #require(load(documents(Self.mesh, route)).routes)
        let parent = RouteParent(namespace: "shop", name: "greeter", port: 50051)
        #expect(routes.httpRouteTable(for: parent) == nil)
        let table = try #require(routes.grpcRouteTable(for: parent))
        #expect(table.errors.isEmpty)
        func rule(_ path: String, headers: [HTTPHeaderField] = []) -> String {
            let request = RouteRequest(
                method: "POST", path: path, authority: "greeter.shop.svc.cluster.local:50051", headers: headers)
            return table.firstMatch(request).map { "rules[\($0.ruleIndex)].matches[\($0.matchIndex ?? -1)]" } ?? "404"
        }
        let canary = [HTTPHeaderField("x-canary", "true")]
        #expect(rule("/helloworld.Greeter/SayHello", headers: canary) == "rules[0].matches[0]")
        #expect(rule("/helloworld.Greeter/SayHello") == "rules[0].matches[1]")
        #expect(rule("/other.Service/SayGoodbye") == "rules[0].matches[2]")
        #expect(rule("/helloworld.Other/SayHi") == "rules[0].matches[3]")
        #expect(rule("/other.Service/Get") == "404")
    }

    @Test("Errors: method names, regular expressions, filters GRPCRoute does not allow, apiVersion")
    func errors() {
        let result = load(
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: g, namespace: shop}
            spec:
              parentRefs: [{group: "", kind: Service, name: greeter}]
              rules:
              - matches:
                - method: {}
                - method: {service: "hello world", method: "1Say"}
                - method:
                    type: RegularExpression
                    service: "hello("
                    method: ok
                - method: {type: Prefix, service: a}
                filters:
                - type: URLRewrite
                  urlRewrite: {hostname: a}
                - type: ExtensionRef
                  extensionRef: {group: example.com, kind: Auth, name: a}
            ---
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: GRPCRoute
            metadata: {name: old, namespace: shop}
            """, file: "g.yaml")
        let prefix = "g.yaml:"
        #expect(result.printedErrors == [
            prefix + "8: GRPCRoute/shop/g: spec.rules[0].matches[0].method: must set service, method or both "
                + "(package.Service and Method)",
            prefix + "9: GRPCRoute/shop/g: spec.rules[0].matches[1].method.service: \"hello world\" is not a gRPC "
                + "service name: dot-separated identifiers such as helloworld.Greeter; use type: RegularExpression to "
                + "match a pattern",
            prefix + "9: GRPCRoute/shop/g: spec.rules[0].matches[1].method.method: \"1Say\" is not a gRPC method name "
                + "(letters, digits and _, not starting with a digit); use type: RegularExpression to match a pattern",
            prefix + "12: GRPCRoute/shop/g: spec.rules[0].matches[2].method.service: invalid regular expression "
                + "\"hello(\": expected ')'",
            prefix + "14: GRPCRoute/shop/g: spec.rules[0].matches[3].method.type: unknown value \"Prefix\"; use one of "
                + "Exact, RegularExpression",
            prefix + "16: GRPCRoute/shop/g: spec.rules[0].filters[0].type: URLRewrite is not allowed in a GRPCRoute; "
                + "use one of ExtensionRef, RequestHeaderModifier, RequestMirror, ResponseHeaderModifier",
            prefix + "21: GRPCRoute/shop/old: apiVersion: GRPCRoute apiVersion gateway.networking.k8s.io/v1alpha2 is "
                + "not supported; use gateway.networking.k8s.io/v1 — the GRPCRoute was not loaded",
        ])
        #expect(result.printedWarnings.contains(
            prefix + "18: GRPCRoute/shop/g: spec.rules[0].filters[1].type: warning: ExtensionRef is not supported by "
                + "Weft's waypoint; Gateway API forbids skipping a filter, so requests matching this rule get "
                + "HTTP 500"))
    }
}
