// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftConfig
import WeftModel
import WeftRoute

/// HTTPRoute manifests translated into WeftRoute's model.
@Suite("HTTPRoute translation")
struct HTTPRouteTests {
    /// The Services the routes below refer to, in `shop`, behind a waypoint.
    static let mesh = documents(
        namespaceYAML("shop", labels: "istio.io/use-waypoint: waypoint"),
        waypointYAML(),
        serviceYAML("reviews"), serviceYAML("reviews-v1"), serviceYAML("reviews-v2"), serviceYAML("mirror"))

    @Test("Every field is translated")
    func readsEveryField() throws {
        let route = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: reviews
              namespace: shop
              creationTimestamp: "2024-05-01T12:00:00Z"
            spec:
              parentRefs:
              - {group: "", kind: Service, name: reviews, port: 9080}
              - {name: waypoint}
              hostnames: [reviews.shop.svc.cluster.local, "*.example.com"]
              rules:
              - name: v2-for-testers
                matches:
                - path: {type: Exact, value: /reviews/1}
                  headers:
                  - {name: x-tester, value: "yes"}
                  - {type: RegularExpression, name: x-build, value: "[0-9]+"}
                  queryParams:
                  - {name: debug, value: "1"}
                  - {type: RegularExpression, name: page, value: "[0-9]{1,3}"}
                  method: GET
                - path: {type: RegularExpression, value: "/reviews/[0-9]+"}
                - path: {value: /api}
                filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier:
                    set: [{name: x-route, value: v2}]
                    add: [{name: x-seen, value: waypoint}]
                    remove: [x-debug]
                - type: ResponseHeaderModifier
                  responseHeaderModifier: {remove: [server]}
                - type: RequestMirror
                  requestMirror:
                    backendRef: {name: mirror, port: 9080}
                    fraction: {numerator: 5}
                - type: URLRewrite
                  urlRewrite:
                    hostname: reviews-v2.shop
                    path: {type: ReplaceFullPath, replaceFullPath: /v2/reviews}
                backendRefs:
                - name: reviews-v2
                  port: 9080
                  weight: 90
                  filters:
                  - type: RequestHeaderModifier
                    requestHeaderModifier: {set: [{name: x-backend, value: v2}]}
                - {name: reviews-v1, namespace: shop, port: 9080, weight: 10}
                timeouts: {request: 2h, backendRequest: 1h2m3s4ms}
                retry: {codes: [502, 503], attempts: 3, backoff: 100ms}
              - matches:
                - path: {type: PathPrefix, value: /old}
                filters:
                - type: RequestRedirect
                  requestRedirect:
                    scheme: https
                    hostname: reviews.example.com
                    path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}
                    port: 8443
                    statusCode: 301
              - backendRefs:
                - {group: "", kind: Service, name: reviews-v1, port: 9080}
                - {name: mirror, port: 9080}
                filters:
                - type: RequestMirror
                  requestMirror: {backendRef: {name: mirror, port: 9080}, percent: 25}
                timeouts: {request: 0s}
                retry: {}
            """
        let result = load(documents(Self.mesh, route), file: "routes.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let routes = try #require(result.routes)
        let location = "routes.yaml:\(Self.mesh.split(separator: "\n", omittingEmptySubsequences: false).count + 5)"
        let expected = HTTPRouteSpec(
            namespace: "shop", name: "reviews", location: location, creationOrder: 1_714_564_800,
            parentRefs: [
                .init(namespace: nil, name: "reviews", port: 9080),
                .init(group: "gateway.networking.k8s.io", kind: "Gateway", name: "waypoint"),
            ],
            hostnames: ["reviews.shop.svc.cluster.local", "*.example.com"],
            rules: [
                HTTPRouteRule(
                    name: "v2-for-testers",
                    matches: [
                        HTTPRouteMatch(
                            path: .exact("/reviews/1"),
                            headers: [
                                .init(name: "x-tester", value: "yes"),
                                .init(.regularExpression, name: "x-build", value: "[0-9]+"),
                            ],
                            queryParams: [
                                .init(name: "debug", value: "1"),
                                .init(.regularExpression, name: "page", value: "[0-9]{1,3}"),
                            ],
                            method: .get),
                        HTTPRouteMatch(path: .regularExpression("/reviews/[0-9]+")),
                        HTTPRouteMatch(path: .pathPrefix("/api")),
                    ],
                    filters: [
                        .requestHeaderModifier(
                            .init(
                                set: [HTTPHeaderField("x-route", "v2")], add: [HTTPHeaderField("x-seen", "waypoint")],
                                remove: ["x-debug"])),
                        .responseHeaderModifier(.init(remove: ["server"])),
                        .requestMirror(
                            .init(
                                backend: BackendObjectReference(name: "mirror", port: 9080),
                                portion: .fraction(numerator: 5, denominator: 100))),
                        .urlRewrite(.init(hostname: "reviews-v2.shop", path: .replaceFullPath("/v2/reviews"))),
                    ],
                    backendRefs: [
                        HTTPBackendRef(
                            service: "reviews-v2", port: 9080, weight: 90,
                            filters: [.requestHeaderModifier(.init(set: [HTTPHeaderField("x-backend", "v2")]))]),
                        HTTPBackendRef(service: "reviews-v1", namespace: "shop", port: 9080, weight: 10),
                    ],
                    timeouts: .init(request: .seconds(7200), backendRequest: .milliseconds(3_723_004)),
                    retry: .init(codes: [502, 503], attempts: 3, backoff: .milliseconds(100))),
                HTTPRouteRule(
                    matches: [HTTPRouteMatch(path: .pathPrefix("/old"))],
                    filters: [
                        .requestRedirect(
                            .init(
                                scheme: .https, hostname: "reviews.example.com", path: .replacePrefixMatch("/new"),
                                port: 8443, statusCode: 301))
                    ]),
                HTTPRouteRule(
                    filters: [
                        .requestMirror(
                            .init(backend: BackendObjectReference(name: "mirror", port: 9080), portion: .percent(25)))
                    ],
                    backendRefs: [
                        HTTPBackendRef(service: "reviews-v1", port: 9080),
                        HTTPBackendRef(service: "mirror", port: 9080),
                    ],
                    timeouts: .init(request: .zero), retry: .init()),
            ])
        #expect(routes.httpRoutes == [expected])
        #expect(routes.grpcRoutes.isEmpty)
        #expect(routes.httpRoutes.first?.rules.last?.timeouts?.effectiveRequest == nil)
    }

    @Test("Defaults: PathPrefix /, Exact header matches, weight 1, a Gateway parent, load order")
    func defaults() throws {
        let result = load(
            documents(
                Self.mesh,
                """
                apiVersion: gateway.networking.k8s.io/v1beta1
                kind: HTTPRoute
                metadata: {name: b, namespace: shop}
                spec:
                  parentRefs: [{group: "", kind: Service, name: reviews}]
                  rules:
                  - matches: [{path: {type: PathPrefix}}, {headers: [{name: x, value: y}]}, {}]
                    backendRefs: [{name: reviews-v1, port: 9080}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: a, namespace: shop}
                spec:
                  parentRefs: [{group: core, kind: Service, name: reviews}]
                """))
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let routes = try #require(result.routes).httpRoutes
        #expect(routes.map(\.name) == ["b", "a"])
        #expect(routes[0].creationOrder < routes[1].creationOrder)
        #expect(routes[0].parentRefs == [.init(name: "reviews")])
        #expect(routes[1].parentRefs == [.init(name: "reviews")])
        #expect(routes[0].rules == [
            HTTPRouteRule(
                matches: [
                    HTTPRouteMatch(), HTTPRouteMatch(headers: [.init(.exact, name: "x", value: "y")]), HTTPRouteMatch(),
                ],
                backendRefs: [HTTPBackendRef(service: "reviews-v1", port: 9080, weight: 1)])
        ])
        #expect(routes[1].rules.isEmpty)
    }
}
