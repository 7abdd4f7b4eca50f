// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Testing
import WeftConfig
import WeftModel
import WeftRoute

/// LocalRateLimitPolicy (`weft.dev/v1alpha1`): translation of every target kind, each error at its field and
/// line, the cross-object checks, and the waypoint's lookups.
@Suite("LocalRateLimitPolicy")
struct LocalRateLimitPolicyTests {
    /// A namespace behind a waypoint with one object of every target kind: Services `reviews` (ports `http`
    /// 9080 and `metrics` 9091), `ratings` (`grpc`), `details` and `batch` (opted out of the waypoint); HTTPRoute
    /// `reviews` (rules `canary` and an unnamed one), GRPCRoute `ratings` (rule `get`), VirtualService `details`
    /// (rule `v1`) and a Gateway `ingress` that is not a waypoint.
    static let mesh = documents(
        namespaceYAML("shop", labels: "istio.io/use-waypoint: waypoint"), waypointYAML(),
        """
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: shop}
        spec:
          clusterIP: 10.96.0.10
          ports: [{name: http, port: 9080}, {name: metrics, port: 9091}]
        """,
        """
        apiVersion: v1
        kind: Service
        metadata: {name: ratings, namespace: shop}
        spec: {clusterIP: 10.96.0.11, ports: [{name: grpc, port: 50051}]}
        """,
        """
        apiVersion: v1
        kind: Service
        metadata: {name: details, namespace: shop}
        spec: {clusterIP: 10.96.0.12, ports: [{name: http, port: 9080}]}
        """,
        """
        apiVersion: v1
        kind: Service
        metadata: {name: batch, namespace: shop, labels: {istio.io/use-waypoint: none}}
        spec: {clusterIP: 10.96.0.13, ports: [{name: http, port: 8080}]}
        """,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: reviews, namespace: shop}
        spec:
          parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
          rules:
          - name: canary
            matches: [{headers: [{name: x-canary, value: "1"}]}]
            backendRefs: [{name: reviews, port: 9080}]
          - backendRefs: [{name: reviews, port: 9080}]
        """,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: ratings, namespace: shop}
        spec:
          parentRefs: [{group: "", kind: Service, name: ratings, port: 50051}]
          rules:
          - name: get
            matches: [{method: {service: ratings.Ratings, method: Get}}]
            backendRefs: [{name: ratings, port: 50051}]
        """,
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: details, namespace: shop}
        spec:
          hosts: [details]
          http:
          - name: v1
            route: [{destination: {host: details}}]
        """,
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: ingress, namespace: shop}
        spec:
          gatewayClassName: istio
          listeners: [{name: http, port: 80, protocol: HTTP}]
        """)

    /// A policy `shop/<name>` whose spec starts on line 5; `spec` is written with no indentation.
    static func policy(_ spec: String, name: String = "p", apiVersion: String = "weft.dev/v1alpha1") -> String {
        let body = spec.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
            .joined(separator: "\n")
        return """
            apiVersion: \(apiVersion)
            kind: LocalRateLimitPolicy
            metadata: {name: \(name), namespace: shop}
            spec:
            \(body)
            """
    }

    /// Loads the mesh (`mesh.yaml`) and `policies` (`rl.yaml`).
    static func loadAll(_ policies: String...) -> ManifestLoadResult {
        ManifestLoader.load(sources: [("mesh.yaml", mesh), ("rl.yaml", policies.joined(separator: "\n---\n"))])
    }

    static let limit = "limit: {requests: 100, unit: Second}"
    /// `targetRefs` naming the whole Service `reviews`.
    static let reviews = "targetRefs: [{group: \"\", kind: Service, name: reviews}]"

    @Test("the mesh fixture loads without a diagnostic")
    func fixture() {
        let result = ManifestLoader.load(sources: [("mesh.yaml", Self.mesh)])
        #expect(result.errors.isEmpty, "\(result.printed)")
        #expect(result.traffic?.rateLimits == [])
        // The ingress Gateway is the only warning: it is not a waypoint.
        #expect(result.warnings.count == 1, "\(result.printed)")
    }

    // MARK: - Valid policies

    @Test("every target kind loads, resolved in the policy's namespace")
    func everyTargetKind() throws {
        let result = Self.loadAll(
            Self.policy(
                """
                targetRefs:
                - {group: gateway.networking.k8s.io, kind: Gateway, name: waypoint}
                - {group: "", kind: Service, name: reviews}
                - {group: core, kind: Service, name: reviews, sectionName: metrics}
                - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: reviews}
                - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: reviews, sectionName: canary}
                - {group: gateway.networking.k8s.io, kind: GRPCRoute, name: ratings, sectionName: get}
                - {group: networking.istio.io, kind: VirtualService, name: details}
                - {group: networking.istio.io, kind: VirtualService, name: details, sectionName: v1}
                limit:
                  requests: 100
                  unit: Second
                burst: 250
                """, name: "reviews-100rps"))
        #expect(result.diagnostics.filter { $0.file == "rl.yaml" }.isEmpty, "\(result.printed)")
        let limits = try #require(result.traffic?.rateLimits)
        #expect(limits.map(\.target) == [
            .waypoint(namespace: "shop", name: "waypoint"),
            .service(namespace: "shop", name: "reviews", port: nil),
            .service(namespace: "shop", name: "reviews", port: 9091),
            .httpRoute(namespace: "shop", name: "reviews", rule: nil),
            .httpRoute(namespace: "shop", name: "reviews", rule: "canary"),
            .grpcRoute(namespace: "shop", name: "ratings", rule: "get"),
            .virtualService(namespace: "shop", name: "details", rule: nil),
            .virtualService(namespace: "shop", name: "details", rule: "v1"),
        ])
        for limit in limits {
            #expect(limit.key == "shop/reviews-100rps")
            #expect(limit.requests == 100 && limit.unit == .second && limit.burst == 250)
            #expect(limit.interval == .seconds(1))
            #expect(limit.location == ManifestLocation(file: "rl.yaml", line: 3))
        }
        #expect(limits[2].description == "shop/reviews-100rps on Service shop/reviews:9091: 100/Second, burst 250")
        #expect(Set(limits.map(\.id)).count == limits.count)
    }

    @Test("burst defaults to requests; each unit is its interval", arguments: [
        ("Second", Duration.seconds(1)), ("Minute", .seconds(60)), ("Hour", .seconds(3600)),
    ])
    func defaults(_ unit: String, _ interval: Duration) throws {
        let result = Self.loadAll(
            Self.policy(Self.reviews + "\nlimit: {requests: 7, unit: \(unit)}"))
        #expect(result.diagnostics.filter { $0.file == "rl.yaml" }.isEmpty, "\(result.printed)")
        let limit = try #require(result.traffic?.rateLimits.first)
        #expect(limit.requests == 7 && limit.burst == 7)
        #expect(limit.unit.rawValue == unit && limit.interval == interval)
    }

    @Test("a LocalRateLimitPolicy inside a List is read")
    func inList() {
        let list = """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: weft.dev/v1alpha1
              kind: LocalRateLimitPolicy
              metadata: {name: p, namespace: shop}
              spec:
                targetRefs: [{group: "", kind: Service, name: details}]
                limit: {requests: 5, unit: Minute}
            """
        let result = Self.loadAll(list)
        #expect(result.traffic?.rateLimits.map(\.target) == [.service(namespace: "shop", name: "details", port: nil)])
    }

    // MARK: - Errors

    struct Case: Sendable, CustomTestStringConvertible {
        var spec: String
        /// `file:line: object: field: message` prefixes of the errors, in order.
        var errors: [String]
        var testDescription: String { errors.first ?? spec }
    }

    static let object = "rl.yaml:%d: LocalRateLimitPolicy/shop/p: "
    static func at(_ line: Int, _ rest: String) -> String { String(format: object, line) + rest }

    static let cases: [Case] = [
        Case(spec: limit, errors: [at(4, "spec.targetRefs: missing spec.targetRefs; list what to limit")]),
        Case(
            spec: "targetRefs: []\n" + limit,
            errors: [at(5, "spec.targetRefs: must list at least one target: a Service, an istio-waypoint Gateway")]),
        Case(
            spec: "targetRefs:\n"
                + (1...17).map { "- {group: \"\", kind: Service, name: s\($0)}" }.joined(separator: "\n")
                + "\n" + limit,
            errors: [at(5, "spec.targetRefs: has 17 targets; at most 16 are allowed — split the policy in two")]),
        Case(
            spec: "targetRefs: {group: \"\", kind: Service, name: reviews}\n" + limit,
            errors: [at(5, "spec.targetRefs: must be a list, got a mapping")]),
        Case(
            spec: "targetRefs:\n- {group: \"\", kind: Pod, name: reviews}\n" + limit,
            errors: [
                at(6, "spec.targetRefs[0].kind: unknown kind \"Pod\"; use one of Service, Gateway, HTTPRoute, "
                    + "GRPCRoute, VirtualService")
            ]),
        Case(
            spec: "targetRefs:\n- group: \"\"\n  name: reviews\n" + limit,
            errors: [at(6, "spec.targetRefs[0].kind: missing spec.targetRefs[0].kind; name the kind of the target")]),
        Case(
            spec: "targetRefs:\n- group: gateway.networking.k8s.io\n  kind: Service\n  name: reviews\n" + limit,
            errors: [
                at(6, "spec.targetRefs[0].group: group gateway.networking.k8s.io has no kind Service; a Service is in "
                    + "the core group: write group: \"\"")
            ]),
        Case(
            spec: "targetRefs:\n- {group: \"\", kind: HTTPRoute, name: reviews}\n" + limit,
            errors: [
                at(6, "spec.targetRefs[0].group: the core group (\"\") has no kind HTTPRoute; an HTTPRoute is in "
                    + "gateway.networking.k8s.io: write group: gateway.networking.k8s.io")
            ]),
        Case(
            spec: "targetRefs:\n- {group: gateway.networking.k8s.io, kind: VirtualService, name: details}\n" + limit,
            errors: [
                at(6, "spec.targetRefs[0].group: group gateway.networking.k8s.io has no kind VirtualService; a "
                    + "VirtualService is in networking.istio.io: write group: networking.istio.io")
            ]),
        Case(
            spec: "targetRefs:\n- kind: Gateway\n  name: waypoint\n" + limit,
            errors: [
                at(6, "spec.targetRefs[0].group: missing spec.targetRefs[0].group; a Gateway is in "
                    + "gateway.networking.k8s.io: write group: gateway.networking.k8s.io")
            ]),
        Case(
            spec: "targetRefs:\n- {group: \"\", kind: Service}\n" + limit,
            errors: [at(6, "spec.targetRefs[0].name: missing spec.targetRefs[0].name; name the Service to limit")]),
        Case(
            spec: "targetRefs:\n- {group: \"\", kind: Service, name: \"\"}\n" + limit,
            errors: [at(6, "spec.targetRefs[0].name: must not be empty; name the Service to limit")]),
        Case(
            spec: """
                targetRefs:
                - group: gateway.networking.k8s.io
                  kind: Gateway
                  name: waypoint
                  sectionName: mesh
                """ + "\n" + limit,
            errors: [
                at(9, "spec.targetRefs[0].sectionName: sectionName is not allowed for a Gateway target: the limit "
                    + "covers every request through the waypoint; remove it")
            ]),
        Case(
            spec: "targetRefs:\n- {group: \"\", kind: Service, name: reviews, sectionName: \"\"}\n" + limit,
            errors: [
                at(6, "spec.targetRefs[0].sectionName: must not be empty; name a port name, or remove sectionName to "
                    + "limit the whole Service")
            ]),
        Case(
            spec: "targetRefs:\n- group: \"\"\n  kind: Service\n  name: reviews\n  namespace: other\n" + limit,
            errors: [
                at(9, "spec.targetRefs[0].namespace: targets are always in the policy's namespace (shop); remove "
                    + "namespace, or create the policy in the target's namespace")
            ]),
        Case(
            spec: "targetRefs: [{group: \"\", kind: Service, name: reviews}]",
            errors: [at(4, "spec.limit: missing spec.limit; set the rate, e.g. limit: {requests: 100, unit: Second}")]),
        Case(
            spec: "targetRefs: [{group: \"\", kind: Service, name: reviews}]\nlimit: 100",
            errors: [at(6, "spec.limit: must be a mapping, got 100")]),
        Case(
            spec: "targetRefs: [{group: \"\", kind: Service, name: reviews}]\nlimit:\n  requests: 0\n  unit: Second",
            errors: [at(7, "spec.limit.requests: must be an integer between 1 and 4294967295, got 0")]),
        Case(
            spec: reviews + "\nlimit:\n  requests: \"100\"\n  unit: Second",
            errors: [at(7, "spec.limit.requests: must be an integer between 1 and 4294967295, got \"100\"")]),
        Case(
            spec: "targetRefs: [{group: \"\", kind: Service, name: reviews}]\nlimit:\n  requests: 2.5\n  unit: Second",
            errors: [at(7, "spec.limit.requests: must be an integer between 1 and 4294967295, got 2.5")]),
        Case(
            spec: "targetRefs: [{group: \"\", kind: Service, name: reviews}]\nlimit:\n  unit: Second",
            errors: [at(6, "spec.limit.requests: missing spec.limit.requests; set the tokens added per unit")]),
        Case(
            spec: "targetRefs: [{group: \"\", kind: Service, name: reviews}]\nlimit:\n  requests: 10\n  unit: Day",
            errors: [at(8, "spec.limit.unit: unknown value \"Day\"; use one of Second, Minute, Hour")]),
        Case(
            spec: "targetRefs: [{group: \"\", kind: Service, name: reviews}]\nlimit:\n  requests: 10",
            errors: [at(6, "spec.limit.unit: missing spec.limit.unit; set one of Second, Minute, Hour, e.g. unit: ")]),
        Case(
            spec: "targetRefs: [{group: \"\", kind: Service, name: reviews}]\n" + limit + "\nburst: 0",
            errors: [at(7, "spec.burst: must be an integer between 1 and 4294967295, got 0")]),
        Case(
            spec: "targetRefs: [{group: \"\", kind: Service, name: reviews}]\n" + limit + "\nburst: 50",
            errors: [
                at(7, "spec.burst: burst 50 is below limit.requests 100: the bucket never holds more than 50 tokens, "
                    + "so at most 50 requests per Second would pass; set burst to at least 100")
            ]),
        // Every problem of a policy is reported, not only the first.
        Case(
            spec: """
                targetRefs:
                - {group: "", kind: Secret, name: token}
                - {group: "", kind: Service, name: reviews, sectionName: admin}
                limit: {requests: -1, unit: Week}
                """,
            errors: [
                at(6, "spec.targetRefs[0].kind: unknown kind \"Secret\""),
                at(7, "spec.targetRefs[1].sectionName: Service shop/reviews has no port named admin"),
                at(8, "spec.limit.requests: must be an integer between 1 and 4294967295, got -1"),
                at(8, "spec.limit.unit: unknown value \"Week\""),
            ]),
        // Checked against the other objects once everything is read.
        Case(
            spec: "targetRefs:\n- group: \"\"\n  kind: Service\n  name: reviews\n  sectionName: grpc\n" + limit,
            errors: [
                at(9, "spec.targetRefs[0].sectionName: Service shop/reviews has no port named grpc (its ports are "
                    + "http, metrics); name one of its ports, or remove sectionName to limit every port")
            ]),
        Case(
            spec: "targetRefs:\n- {group: gateway.networking.k8s.io, kind: HTTPRoute, name: reviews, sectionName: "
                + "stable}\n" + limit,
            errors: [
                at(6, "spec.targetRefs[0].sectionName: HTTPRoute shop/reviews has no rule named stable (its rules are "
                    + "canary); name one of its rules, or remove sectionName to limit the whole route")
            ]),
        Case(
            spec: "targetRefs:\n- {group: gateway.networking.k8s.io, kind: GRPCRoute, name: ratings, sectionName: "
                + "list}\n" + limit,
            errors: [
                at(6, "spec.targetRefs[0].sectionName: GRPCRoute shop/ratings has no rule named list (its rules are "
                    + "get)")
            ]),
        Case(
            spec: "targetRefs:\n- {group: networking.istio.io, kind: VirtualService, name: details, sectionName: v2}\n"
                + limit,
            errors: [
                at(6, "spec.targetRefs[0].sectionName: VirtualService shop/details has no rule named v2 (its rules are "
                    + "v1)")
            ]),
    ]

    @Test("errors at file:line with the field path", arguments: cases)
    func loadErrors(_ test: Case) {
        let result = Self.loadAll(Self.policy(test.spec))
        let printed = result.errors.map(\.description)
        #expect(printed.count == test.errors.count, "\(printed)")
        for (line, expected) in zip(printed, test.errors) {
            #expect(line.hasPrefix(expected), "\(line)")
        }
        #expect(result.snapshot == nil)
        #expect(result.traffic == nil)
    }

    @Test("a missing spec and an unsupported apiVersion are errors")
    func missingSpecAndVersion() {
        let noSpec = """
            apiVersion: weft.dev/v1alpha1
            kind: LocalRateLimitPolicy
            metadata: {name: p, namespace: shop}
            """
        #expect(Self.loadAll(noSpec).printedErrors == [
            Self.at(1, "spec: missing spec; a LocalRateLimitPolicy needs spec.targetRefs and spec.limit")
        ])
        let v1 = Self.policy(Self.reviews + "\n" + Self.limit, apiVersion: "weft.dev/v1")
        #expect(Self.loadAll(v1).printedErrors == [
            Self.at(1, "apiVersion: LocalRateLimitPolicy apiVersion weft.dev/v1 is not supported; use "
                + "weft.dev/v1alpha1 — the LocalRateLimitPolicy was not loaded")
        ])
    }

    @Test("a LocalRateLimitPolicy in another API group is skipped with a warning naming weft.dev/v1alpha1")
    func otherGroup() {
        let other = Self.policy(Self.reviews + "\n" + Self.limit, apiVersion: "networking.istio.io/v1")
        let result = Self.loadAll(other)
        #expect(result.errors.isEmpty)
        #expect(result.printedWarnings.contains(
            "rl.yaml:2: LocalRateLimitPolicy/shop/p: kind: warning: unknown kind LocalRateLimitPolicy in apiVersion "
                + "networking.istio.io/v1, skipped; Weft reads LocalRateLimitPolicy from apiVersion weft.dev/v1alpha1"),
            "\(result.printed)")
        #expect(result.traffic?.rateLimits == [])
    }

    // MARK: - Warnings

    @Test("a target that does not exist is a warning; the policy limits nothing there")
    func missingTargets() throws {
        let result = Self.loadAll(
            Self.policy(
                """
                targetRefs:
                - {group: gateway.networking.k8s.io, kind: Gateway, name: east}
                - {group: "", kind: Service, name: cart, sectionName: http}
                - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: cart}
                - {group: gateway.networking.k8s.io, kind: GRPCRoute, name: reviews}
                - {group: networking.istio.io, kind: VirtualService, name: reviews, sectionName: v1}
                - {group: "", kind: Service, name: details}
                """ + "\n" + Self.limit))
        #expect(result.errors.isEmpty, "\(result.printed)")
        let until = "this target limits nothing until it does (the policy's namespace, shop, is where targets are "
            + "looked up)"
        #expect(result.diagnostics.filter { $0.file == "rl.yaml" }.map(\.description) == [
            Self.at(6, "spec.targetRefs[0].name: warning: Gateway shop/east does not exist in the manifests; " + until),
            Self.at(7, "spec.targetRefs[1].name: warning: Service shop/cart does not exist in the manifests; " + until),
            Self.at(8, "spec.targetRefs[2].name: warning: HTTPRoute shop/cart does not exist in the manifests; "
                + until),
            Self.at(9, "spec.targetRefs[3].name: warning: GRPCRoute shop/reviews does not exist in the manifests; "
                + until),
            Self.at(10, "spec.targetRefs[4].name: warning: VirtualService shop/reviews does not exist in the "
                + "manifests; " + until),
        ])
        let limits = try #require(result.traffic?.rateLimits)
        #expect(limits.map(\.target) == [.service(namespace: "shop", name: "details", port: nil)])
    }

    @Test("a Gateway that is not a waypoint and a Service without a waypoint are warnings")
    func noWaypoint() throws {
        let result = Self.loadAll(
            Self.policy(
                """
                targetRefs:
                - {group: gateway.networking.k8s.io, kind: Gateway, name: ingress}
                - {group: "", kind: Service, name: batch}
                """ + "\n" + Self.limit))
        #expect(result.errors.isEmpty, "\(result.printed)")
        #expect(result.diagnostics.filter { $0.file == "rl.yaml" }.map(\.description) == [
            Self.at(6, "spec.targetRefs[0].name: warning: Gateway shop/ingress is not a waypoint (gatewayClassName "
                + "istio, not istio-waypoint); only a waypoint enforces local rate limits, so this target limits "
                + "nothing"),
            Self.at(7, "spec.targetRefs[1].name: warning: Service shop/batch uses no waypoint (no "
                + "istio.io/use-waypoint label on it or its namespace); only a waypoint enforces local rate limits, so "
                + "this target has no effect until it uses one"),
        ])
        #expect(try #require(result.traffic).rateLimits.map(\.target) == [
            .service(namespace: "shop", name: "batch", port: nil)
        ])
    }

    @Test("unknown fields and repeated targets are warnings")
    func unknownFieldsAndRepeats() throws {
        let result = Self.loadAll(
            Self.policy(
                """
                targetRefs:
                - {group: "", kind: Service, name: reviews, port: 9080}
                - {group: core, kind: Service, name: reviews}
                limit: {requests: 10, unit: Minute, per: client}
                brust: 20
                """))
        #expect(result.errors.isEmpty, "\(result.printed)")
        let printed = result.diagnostics.filter { $0.file == "rl.yaml" }.map(\.description)
        #expect(printed == [
            Self.at(6, "spec.targetRefs[0].port: warning: unknown field \"port\" is ignored; known fields: group, "
                + "kind, name, sectionName, namespace"),
            Self.at(7, "spec.targetRefs[1]: warning: repeats spec.targetRefs[0]; a target is limited once per policy, "
                + "so this entry is ignored"),
            Self.at(8, "spec.limit.per: warning: unknown field \"per\" is ignored; known fields: requests, unit"),
            Self.at(9, "spec.brust: warning: unknown field \"brust\" is ignored; known fields: targetRefs, limit, "
                + "burst"),
        ])
        let limits = try #require(result.traffic?.rateLimits)
        #expect(limits.count == 1)
        #expect(limits.first?.burst == 10)
    }

    // MARK: - Lookups

    /// Five policies, named so that their alphabetical order is not the charging order.
    static let layered = [
        policy("targetRefs: [{group: \(gateway), kind: Gateway, name: waypoint}]\n" + limit, name: "a-waypoint"),
        policy(reviews + "\n" + limit, name: "b-service"),
        policy(
            "targetRefs: [{group: \"\", kind: Service, name: reviews, sectionName: http}]\n" + limit, name: "c-port"),
        policy("targetRefs: [{group: \(gateway), kind: HTTPRoute, name: reviews}]\n" + limit, name: "d-route"),
        policy(
            "targetRefs: [{group: \(gateway), kind: HTTPRoute, name: reviews, sectionName: canary}]\n" + limit,
            name: "e-rule"),
        policy(
            """
            targetRefs:
            - {group: "", kind: Service, name: details}
            - {group: networking.istio.io, kind: VirtualService, name: details, sectionName: v1}
            - {group: gateway.networking.k8s.io, kind: GRPCRoute, name: ratings}
            """ + "\n" + limit, name: "f-others"),
    ]

    static let gateway = "gateway.networking.k8s.io"

    static func names(_ limits: [LocalRateLimit]) -> [String] { limits.map(\.name) }

    static func loadLayered() -> ManifestLoadResult {
        ManifestLoader.load(sources: [("mesh.yaml", mesh), ("rl.yaml", layered.joined(separator: "\n---\n"))])
    }

    @Test("a request's limits come most specific first: rule, route, Service port, Service, waypoint")
    func requestOrder() throws {
        let result = Self.loadLayered()
        #expect(result.errors.isEmpty, "\(result.printed)")
        let traffic = try #require(result.traffic)
        let routes = try #require(result.routes)
        let parent = RouteParent(namespace: "shop", name: "reviews", port: 9080)
        let table = try #require(routes.httpRouteTable(for: parent))

        let canary = try #require(table.firstMatch(RouteRequest(path: "/", headers: [.init("x-canary", "1")])))
        let request = LocalRateLimitTable.Request(
            waypointNamespace: "shop", waypointName: "waypoint", service: parent, route: .init(http: canary))
        let all = ["e-rule", "d-route", "c-port", "b-service", "a-waypoint"]
        #expect(Self.names(traffic.rateLimits(for: request)) == all)

        let plain = try #require(table.firstMatch(RouteRequest(path: "/")))
        #expect(plain.ruleName == nil)
        let other = LocalRateLimitTable.Request(
            waypointNamespace: "shop", waypointName: "waypoint", service: parent, route: .init(http: plain))
        #expect(Self.names(traffic.rateLimits(for: other)) == ["d-route", "c-port", "b-service", "a-waypoint"])

        let metrics = LocalRateLimitTable.Request(
            waypointNamespace: "shop", waypointName: "waypoint",
            service: RouteParent(namespace: "shop", name: "reviews", port: 9091))
        #expect(Self.names(traffic.rateLimits(for: metrics)) == ["b-service", "a-waypoint"])

        let workload = LocalRateLimitTable.Request(waypointNamespace: "shop", waypointName: "waypoint")
        #expect(Self.names(traffic.rateLimits(for: workload)) == ["a-waypoint"])
        let elsewhere = LocalRateLimitTable.Request(waypointNamespace: "shop", waypointName: "east")
        #expect(traffic.rateLimits(for: elsewhere).isEmpty)
    }

    @Test("the lookup helpers for a waypoint, a Service port and a route")
    func helpers() throws {
        let result = Self.loadLayered()
        let traffic = try #require(result.traffic)
        #expect(traffic.rateLimits.count == 8)
        #expect(Self.names(traffic.rateLimits(forWaypoint: "shop", name: "waypoint")) == ["a-waypoint"])
        let port9080 = traffic.rateLimits(forService: "shop", name: "reviews", port: 9080)
        #expect(Self.names(port9080) == ["c-port", "b-service"])
        #expect(Self.names(traffic.rateLimits(forService: "shop", name: "reviews", port: 9091)) == ["b-service"])
        #expect(Self.names(traffic.rateLimits(forService: "shop", name: "details", port: 9080)) == ["f-others"])
        #expect(traffic.rateLimits(forService: "other", name: "reviews", port: 9080).isEmpty)
        let canary = LocalRateLimitTable.Request.Route.httpRoute(namespace: "shop", name: "reviews", rule: "canary")
        #expect(Self.names(traffic.rateLimits(forRoute: canary)) == ["e-rule", "d-route"])
        // A GRPCRoute and an HTTPRoute of the same name are different targets.
        #expect(traffic.rateLimits(forRoute: .grpcRoute(namespace: "shop", name: "reviews", rule: nil)).isEmpty)
        #expect(Self.names(traffic.rateLimits(forRoute: .grpcRoute(namespace: "shop", name: "ratings", rule: "get")))
            == ["f-others"])
        #expect(traffic.rateLimitTable.limits(forRoute: .init(grpc: RouteMatch(
            route: RouteReference(namespace: "shop", name: "ratings"), ruleIndex: 0, ruleName: "get", matchIndex: 0,
            matchedPathPrefix: nil))).count == 1)
    }

    @Test("a VirtualService selection finds the limits of its rule")
    func virtualServiceSelection() throws {
        let result = Self.loadLayered()
        let traffic = try #require(result.traffic)
        let table = try #require(traffic.virtualServiceTable(namespace: "shop", service: "details"))
        let selection = try #require(table.match(RouteRequest(path: "/")))
        let route = LocalRateLimitTable.Request.Route(selection)
        #expect(route == .virtualService(namespace: "shop", name: "details", rule: "v1"))
        let limits = traffic.rateLimits(
            for: .init(
                waypointNamespace: "shop", waypointName: "waypoint",
                service: RouteParent(namespace: "shop", name: "details", port: 9080), route: route))
        #expect(limits.map(\.target) == [
            .virtualService(namespace: "shop", name: "details", rule: "v1"),
            .service(namespace: "shop", name: "details", port: nil),
            .waypoint(namespace: "shop", name: "waypoint"),
        ])
    }

    @Test("limits on one target are in policy name order; an identical limit is kept once")
    func tableOrder() {
        func limit(_ name: String, namespace: String = "shop") -> LocalRateLimit {
            LocalRateLimit(
                namespace: namespace, name: name, target: .waypoint(namespace: "shop", name: "waypoint"), requests: 1,
                unit: .hour)
        }
        let table = LocalRateLimitTable([limit("zeta"), limit("alpha"), limit("zeta"), limit("alpha", namespace: "a")])
        #expect(table.limits.map(\.key) == ["shop/zeta", "shop/alpha", "a/alpha"])
        let keys = table.limits(forWaypoint: "shop", name: "waypoint").map(\.key)
        #expect(keys == ["a/alpha", "shop/alpha", "shop/zeta"])
        #expect(LocalRateLimitTable().isEmpty)
        #expect(MeshTrafficPolicies().rateLimits.isEmpty)
    }

    // MARK: - The 429 answer

    @Test("a refused request is answered 429 local_rate_limited with the rate-limit headers")
    func refusal() {
        let limit = LocalRateLimit(
            namespace: "shop", name: "p", target: .service(namespace: "shop", name: "reviews", port: 9080),
            requests: 100, unit: .minute, burst: 150)
        #expect(LocalRateLimit.refusalStatusCode == 429)
        #expect(LocalRateLimit.refusalBody == "local_rate_limited")
        #expect(LocalRateLimit.responseFlag == "RL")
        #expect(limit.refusalHeaders(resetAfter: .milliseconds(12_300)).map(\.description) == [
            "x-local-rate-limit: true", "x-ratelimit-limit: 100", "x-ratelimit-remaining: 0", "x-ratelimit-reset: 13",
        ])
        #expect(limit.refusalHeaders(resetAfter: .seconds(60)).last?.value == "60")
        #expect(limit.refusalHeaders(resetAfter: .zero).last?.value == "1")
    }
}
