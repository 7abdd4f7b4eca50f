// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Testing
import WeftConfig
import WeftModel
import WeftRoute

/// Routes checked against the other objects: parents, backends, and the tables built per Service port.
@Suite("Route attachment")
struct RouteAttachmentTests {
    /// The Istio docs' bookinfo shape: a namespace enrolled in a waypoint, reviews split 90/10 between versions.
    static let bookinfo = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: bookinfo
          labels:
            istio.io/dataplane-mode: ambient
            istio.io/use-waypoint: waypoint
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: waypoint
          namespace: bookinfo
          labels:
            istio.io/waypoint-for: service
        spec:
          gatewayClassName: istio-waypoint
          listeners:
          - name: mesh
            port: 15008
            protocol: HBONE
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: waypoint-6f8b9c7d5-x2k4q
          namespace: bookinfo
          labels:
            gateway.networking.k8s.io/gateway-name: waypoint
            istio.io/dataplane-mode: none
        spec:
          serviceAccountName: waypoint
        status:
          podIP: 10.244.1.20
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: reviews
          namespace: bookinfo
          labels: {app: reviews, service: reviews}
        spec:
          clusterIP: 10.96.10.1
          selector: {app: reviews}
          ports:
          - {name: http, port: 9080}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: reviews-v1, namespace: bookinfo}
        spec:
          clusterIP: 10.96.10.2
          selector: {app: reviews, version: v1}
          ports: [{name: http, port: 9080}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: reviews-v2, namespace: bookinfo}
        spec:
          clusterIP: 10.96.10.3
          selector: {app: reviews, version: v2}
          ports: [{name: http, port: 9080}]
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: reviews-v1-0
          namespace: bookinfo
          labels: {app: reviews, version: v1}
        spec: {serviceAccountName: bookinfo-reviews}
        status: {podIP: 10.244.1.31}
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: reviews-v2-0
          namespace: bookinfo
          labels: {app: reviews, version: v2}
        spec: {serviceAccountName: bookinfo-reviews}
        status: {podIP: 10.244.1.32}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: reviews
          namespace: bookinfo
        spec:
          parentRefs:
          - group: ""
            kind: Service
            name: reviews
            port: 9080
          rules:
          - backendRefs:
            - name: reviews-v1
              port: 9080
              weight: 90
            - name: reviews-v2
              port: 9080
              weight: 10
        """

    static let reviews = RouteParent(namespace: "bookinfo", name: "reviews", port: 9080)

    @Test("A full waypoint example loads cleanly and splits traffic 90/10")
    func bookinfoExample() throws {
        let result = load(Self.bookinfo, file: "bookinfo.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let snapshot = try #require(result.snapshot)
        let routes = try #require(result.routes)
        let service = try #require(snapshot.services.first { $0.name == "reviews" })
        let waypoint = try #require(snapshot.waypoint(forService: service))
        #expect(waypoint.key == "bookinfo/waypoint")
        #expect(waypoint.addresses == [ip("10.244.1.20")])
        #expect(waypoint.hboneListener != nil)
        #expect(service.ports.first?.resolvedAppProtocol == .http)
        // Services use the service-only waypoint; the pods (workload traffic) do not.
        #expect(snapshot.workloads.allSatisfy { snapshot.waypoint(forWorkload: $0) == nil })

        #expect(routes.parents == [Self.reviews])
        #expect(routes.httpRoutes(namespace: "bookinfo", service: "reviews", port: 9080).map(\.name) == ["reviews"])
        #expect(routes.httpRoutes(namespace: "bookinfo", service: "reviews-v1", port: 9080).isEmpty)
        let table = try #require(routes.httpRouteTable(for: Self.reviews))
        #expect(table.errors.isEmpty)
        var generator = SeededGenerator(state: 7)
        var counts: [String: Int] = [:]
        let request = RouteRequest(method: "GET", path: "/reviews/0", authority: "reviews.bookinfo:9080")
        for _ in 0..<1000 {
            let backend = table.match(request, using: &generator)?.backend?.name ?? "none"
            counts[backend, default: 0] += 1
        }
        #expect((850...950).contains(counts["reviews-v1"] ?? 0), "\(counts)")
        #expect((50...150).contains(counts["reviews-v2"] ?? 0), "\(counts)")
        #expect(counts["none"] == nil)
    }

    @Test("A backend Service that does not exist is a warning; only its share gets HTTP 500")
    func missingBackend() throws {
        let text = Self.bookinfo.replacingFirst(
            "name: reviews-v2\n      port: 9080", with: "name: reviews-v3\n      port: 9080")
        let result = load(text, file: "bookinfo.yaml")
        #expect(result.printed == [
            "bookinfo.yaml:98: HTTPRoute/bookinfo/reviews: spec.rules[0].backendRefs[1].name: warning: Service "
                + "bookinfo/reviews-v3 does not exist in the manifests; its share of traffic (weight 10) gets HTTP 500 "
                + "(BackendNotFound)"
        ])
        let table = try #require(result.routes?.httpRouteTable(for: Self.reviews))
        var generator = SeededGenerator(state: 1)
        var outcomes: Set<String> = []
        let request = RouteRequest(method: "GET", path: "/", authority: "reviews:9080")
        for _ in 0..<200 {
            switch table.match(request, using: &generator)?.outcome {
            case .forward(let backend): outcomes.insert(backend.name)
            case .failure(let failure): outcomes.insert("\(failure.statusCode) \(failure)")
            default: outcomes.insert("other")
            }
        }
        #expect(outcomes == ["reviews-v1", "500 backend bookinfo/reviews-v3:9080 is invalid (BackendNotFound)"])
    }

    @Test("Backend warnings: another kind, a mirror target, another namespace, a port the Service lacks")
    func backendWarnings() throws {
        let result = load(
            documents(
                namespaceYAML("shop", labels: "istio.io/use-waypoint: waypoint"), waypointYAML(), serviceYAML("web"),
                serviceYAML("api", namespace: "backend"),
                """
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: r, namespace: shop}
                spec:
                  parentRefs: [{group: "", kind: Service, name: web}]
                  rules:
                  - filters:
                    - type: RequestMirror
                      requestMirror: {backendRef: {name: shadow, port: 80}}
                    backendRefs:
                    - {group: networking.istio.io, kind: Hostname, name: example.com, port: 80}
                    - {name: api, namespace: backend, port: 9080}
                    - {name: web, port: 8080}
                """), file: "r.yaml")
        #expect(result.printedWarnings == [
            "r.yaml:45: HTTPRoute/shop/r: spec.rules[0].filters[0].requestMirror.backendRef.name: warning: Service "
                + "shop/shadow does not exist in the manifests; requests are not mirrored to it (BackendNotFound)",
            "r.yaml:47: HTTPRoute/shop/r: spec.rules[0].backendRefs[0].kind: warning: backend kind "
                + "networking.istio.io/Hostname is not supported (only core Services are); its share of traffic "
                + "(weight 1) gets HTTP 500 (InvalidKind)",
            "r.yaml:48: HTTPRoute/shop/r: spec.rules[0].backendRefs[1].namespace: warning: backend in namespace "
                + "backend: Gateway API requires a ReferenceGrant there, which Weft does not read; the reference is "
                + "allowed",
            "r.yaml:49: HTTPRoute/shop/r: spec.rules[0].backendRefs[2].port: warning: Service shop/web has no port "
                + "8080 (it has 9080)",
        ])
        #expect(result.routes?.httpRoutes.count == 1)
    }

    @Test("Parent warnings: missing Service or Gateway, not a waypoint, no waypoint, group, kind, no parents")
    func parentWarnings() throws {
        let result = load(
            documents(
                serviceYAML("web"),
                """
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata: {name: ingress, namespace: shop}
                spec:
                  gatewayClassName: istio
                  listeners: [{name: http, port: 80, protocol: HTTP}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: r, namespace: shop}
                spec:
                  parentRefs:
                  - {group: "", kind: Service, name: missing}
                  - {name: ingress}
                  - {name: nowhere}
                  - {group: "", kind: Service, name: web}
                  - {kind: Service, name: web}
                  - {group: networking.istio.io, kind: ServiceEntry, name: external}
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: orphan, namespace: shop}
                spec:
                  rules: [{}]
                """), file: "r.yaml")
        #expect(result.printedWarnings == [
            "r.yaml:11: Gateway/shop/ingress: spec.gatewayClassName: warning: gatewayClassName istio is not a "
                + "waypoint (istio-waypoint); Weft runs only waypoints, so this Gateway is ignored",
            "r.yaml:19: HTTPRoute/shop/r: spec.parentRefs[0].name: warning: Service shop/missing does not exist in "
                + "the manifests; this parentRef attaches the route to nothing",
            "r.yaml:20: HTTPRoute/shop/r: spec.parentRefs[1].name: warning: Gateway shop/ingress is not a waypoint "
                + "(gatewayClassName istio); the waypoint ignores this parentRef",
            "r.yaml:21: HTTPRoute/shop/r: spec.parentRefs[2].name: warning: Gateway shop/nowhere does not exist in "
                + "the manifests; this parentRef attaches the route to nothing",
            "r.yaml:22: HTTPRoute/shop/r: spec.parentRefs[3].name: warning: Service shop/web uses no waypoint (no "
                + "istio.io/use-waypoint label on it or its namespace), so this route has no effect on its traffic",
            "r.yaml:23: HTTPRoute/shop/r: spec.parentRefs[4].kind: warning: group defaults to "
                + "gateway.networking.k8s.io, which has no kind Service, so this parentRef attaches to nothing; write "
                + "group: \"\" for a Service",
            "r.yaml:24: HTTPRoute/shop/r: spec.parentRefs[5].kind: warning: parentRef networking.istio.io/ServiceEntry "
                + "is not supported by the waypoint and is ignored; attach the route to a Service (group \"\") or a "
                + "waypoint Gateway",
            "r.yaml:29: HTTPRoute/shop/orphan: spec.parentRefs: warning: the route has no parentRefs, so it attaches "
                + "to nothing; add one naming a Service (group: \"\", kind: Service) or a waypoint Gateway",
        ])
        let routes = try #require(result.routes)
        #expect(routes.parents == [RouteParent(namespace: "shop", name: "web", port: 9080)])
    }

    @Test("sectionName selects a Service port by name; an unknown one drops that parent")
    func sectionName() throws {
        let result = load(
            documents(
                namespaceYAML("shop", labels: "istio.io/use-waypoint: waypoint"), waypointYAML(),
                """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: shop}
                spec:
                  ports: [{name: http, port: 80}, {name: http-admin, port: 8080}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: r, namespace: shop}
                spec:
                  parentRefs:
                  - {group: "", kind: Service, name: web, sectionName: http-admin}
                  - {group: "", kind: Service, name: web, sectionName: grpc}
                """), file: "r.yaml")
        #expect(result.printed == [
            "r.yaml:37: HTTPRoute/shop/r: spec.parentRefs[1].name: warning: Service shop/web has no port named grpc "
                + "(its ports are http, http-admin); this parentRef is ignored"
        ])
        let routes = try #require(result.routes)
        #expect(routes.parents == [RouteParent(namespace: "shop", name: "web", port: 8080)])
        #expect(routes.httpRoutes.first?.parentRefs == [.init(name: "web", port: 8080)])
    }

    @Test("A waypoint Gateway parent attaches the route to every port of every Service using the waypoint")
    func gatewayParent() throws {
        let result = load(
            documents(
                namespaceYAML("shop", labels: "istio.io/use-waypoint: waypoint"), waypointYAML(),
                serviceYAML("web", port: 80), serviceYAML("api", port: 9090),
                serviceYAML("direct", labels: "istio.io/use-waypoint: none"),
                """
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: all, namespace: shop}
                spec:
                  parentRefs: [{name: waypoint, sectionName: mesh}]
                  rules:
                  - backendRefs: [{name: web, port: 80}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: foreign, namespace: other}
                spec:
                  parentRefs: [{name: waypoint, namespace: shop}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: listener, namespace: shop}
                spec:
                  parentRefs: [{name: waypoint, sectionName: admin}, {name: waypoint, port: 15021}]
                """), file: "r.yaml")
        #expect(result.printed == [
            "r.yaml:55: HTTPRoute/other/foreign: spec.parentRefs[0].name: warning: waypoint shop/waypoint does not "
                + "allow routes from namespace other: its HBONE listener allows only its own namespace; add "
                + "allowedRoutes.namespaces.from: All (or a Selector) to it",
            "r.yaml:61: HTTPRoute/shop/listener: spec.parentRefs[0].name: warning: waypoint shop/waypoint has no "
                + "listener named admin; this parentRef attaches the route to nothing",
            "r.yaml:61: HTTPRoute/shop/listener: spec.parentRefs[1].name: warning: waypoint shop/waypoint has no "
                + "listener on port 15021; this parentRef attaches the route to nothing",
        ])
        let routes = try #require(result.routes)
        let api = RouteParent(namespace: "shop", name: "api", port: 9090)
        #expect(routes.parents == [api, RouteParent(namespace: "shop", name: "web", port: 80)])
        let attached = routes.httpRoutes(attachedTo: api)
        #expect(attached.map(\.name) == ["all"])
        #expect(attached.first?.parentRefs.last == .init(namespace: "shop", name: "api", port: 9090))
        let table = try #require(routes.httpRouteTable(for: api))
        #expect(table.routes.map(\.key) == ["shop/all"])
        let request = RouteRequest(method: "GET", path: "/", authority: "api.shop:9090")
        #expect(table.match(request)?.backend?.name == "web")
    }

    @Test("A filter the waypoint cannot apply is a warning; the rule answers 500 and the route still loads")
    func unsupportedFilter() throws {
        let result = load(
            documents(
                namespaceYAML("shop", labels: "istio.io/use-waypoint: waypoint"), waypointYAML(), serviceYAML("web"),
                """
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: r, namespace: shop}
                spec:
                  parentRefs: [{group: "", kind: Service, name: web}]
                  rules:
                  - matches: [{path: {value: /cors}}]
                    filters: [{type: CORS, cors: {allowOrigins: ["*"]}}]
                    backendRefs: [{name: web, port: 9080}]
                  - backendRef: [{name: web, port: 9080}]
                    backendRefs: [{name: web, port: 9080, filters: [{type: MagicHeaders}]}]
                """), file: "r.yaml")
        #expect(result.printed == [
            "r.yaml:38: HTTPRoute/shop/r: spec.rules[0].filters[0].type: warning: CORS is not supported by Weft's "
                + "waypoint; Gateway API forbids skipping a filter, so requests matching this rule get HTTP 500",
            "r.yaml:40: HTTPRoute/shop/r: spec.rules[1].backendRef: warning: unknown field \"backendRef\" is ignored; "
                + "did you mean backendRefs?",
            "r.yaml:41: HTTPRoute/shop/r: spec.rules[1].backendRefs[0].filters[0].type: warning: unknown filter type "
                + "\"MagicHeaders\" (Gateway API defines RequestHeaderModifier, ResponseHeaderModifier, "
                + "RequestRedirect, URLRewrite, RequestMirror, CORS, ExternalAuth, ExtensionRef); the waypoint cannot "
                + "apply it, so requests sent to this backend get HTTP 500",
        ])
        let web = RouteParent(namespace: "shop", name: "web", port: 9080)
        let table = try #require(result.routes?.httpRouteTable(for: web))
        let cors = table.match(RouteRequest(method: "GET", path: "/cors", authority: "web"))
        #expect(cors?.outcome == .failure(.unsupportedFilter(type: "CORS")))
        #expect(cors?.localStatusCode == 500)
        let other = table.match(RouteRequest(method: "GET", path: "/", authority: "web"))
        #expect(other?.outcome == .failure(.unsupportedFilter(type: "MagicHeaders")))
    }
}
