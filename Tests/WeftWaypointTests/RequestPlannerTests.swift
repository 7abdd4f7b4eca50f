// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftConfig
import WeftModel
import WeftNode
import WeftRoute

@testable import WeftWaypoint

/// The waypoint's request planning, without sockets: which configuration wins, clusters and subsets,
/// DestinationRule settings per port and subset, faults, retries and timeouts.
@Suite("Request planning")
struct RequestPlannerTests {
    static let base = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: waypoint, namespace: shop}
        spec:
          gatewayClassName: istio-waypoint
          listeners: [{name: mesh, port: 15008, protocol: HBONE}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: waypoint, namespace: shop, labels: {gateway.networking.k8s.io/gateway-name: waypoint}}
        spec: {nodeName: w, serviceAccountName: waypoint}
        status: {podIP: 10.0.0.5}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: r1, namespace: shop, labels: {app: reviews, version: v1}}
        spec: {nodeName: n, serviceAccountName: reviews}
        status: {podIP: 10.0.0.11}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: r2, namespace: shop, labels: {app: reviews, version: v2}}
        spec: {nodeName: n, serviceAccountName: reviews}
        status: {podIP: 10.0.0.12}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: shop, labels: {istio.io/use-waypoint: waypoint}}
        spec:
          clusterIP: 10.96.0.10
          selector: {app: reviews}
          ports: [{name: http, port: 80, targetPort: 9080}, {name: http-admin, port: 8080, targetPort: 9081}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: ratings, namespace: shop}
        spec:
          clusterIP: 10.96.0.11
          selector: {app: reviews}
          ports: [{name: http, port: 80, targetPort: 9080}]
        """

    static func state(_ extra: String = "") throws -> WaypointState {
        let result = ManifestLoader.load(sources: [("mesh.yaml", base + (extra.isEmpty ? "" : "\n---\n" + extra))])
        #expect(!result.hasErrors, "\(result.errors)")
        return try WaypointConfiguration.state(from: result, workload: "shop/waypoint")
    }

    static func plan(_ state: WaypointState, _ path: String, port: UInt16 = 80, headers: [HTTPHeaderField] = []) throws
        -> RequestPlan
    {
        let service = try #require(state.service(namespace: "shop", name: "reviews"))
        var generator = SplitMix64(seed: 7)
        return RequestPlanner(state: state, service: service, port: port)
            .plan(RouteRequest(method: "GET", path: path, authority: "reviews", headers: headers), using: &generator)
    }

    static func cluster(_ plan: RequestPlan) -> UpstreamCluster? {
        if case .forward(let cluster) = plan.action { return cluster }
        return nil
    }

    static func answer(_ plan: RequestPlan) -> RequestPlan.LocalAnswer? {
        if case .respond(let answer) = plan.action { return answer }
        return nil
    }

    @Test("without routes the Service itself, with Istio's default retry policy")
    func defaultRoute() throws {
        let plan = try Self.plan(Self.state(), "/x")
        let cluster = try #require(Self.cluster(plan))
        #expect(cluster.name == "outbound|80||reviews.shop.svc.cluster.local")
        #expect(plan.retry == .istioDefault)
        #expect(plan.timeout == nil && plan.route == nil)
    }

    static let subsets = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: shop}
        spec:
          host: reviews
          trafficPolicy:
            loadBalancer: {simple: LEAST_REQUEST}
            portLevelSettings:
            - port: {number: 8080}
              loadBalancer: {simple: RANDOM}
          subsets:
          - name: v1
            labels: {version: v1}
          - name: v2
            labels: {version: v2}
            trafficPolicy:
              connectionPool: {tcp: {maxConnections: 3}}
              outlierDetection: {consecutive5xxErrors: 2}
        """

    @Test("VirtualService first match: subset, DestinationRule settings, timeout and retries")
    func virtualServiceSubset() throws {
        let state = try Self.state(
            Self.subsets + """

                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: reviews, namespace: shop}
                spec:
                  hosts: [reviews]
                  http:
                  - name: jason
                    match: [{headers: {end-user: {exact: jason}}}]
                    timeout: 2s
                    retries: {attempts: 4, perTryTimeout: 500ms, retryOn: "gateway-error,409", backoff: 10ms}
                    route: [{destination: {host: reviews, subset: v2}}]
                  - route: [{destination: {host: reviews, subset: v1}}]
                """)
        let jason = try Self.plan(state, "/p", headers: [.init("end-user", "jason")])
        let v2 = try #require(Self.cluster(jason))
        #expect(v2.name == "outbound|80|v2|reviews.shop.svc.cluster.local")
        #expect(v2.subsetLabels == ["version": "v2"])
        #expect(v2.endpoints(in: state.snapshot).map(\.name) == ["r2"])
        #expect(v2.settings.loadBalancer?.simple == .leastRequest)  // inherited from the top level
        #expect(v2.settings.connectionPool?.maxConnections == 3)  // the subset's own
        #expect(jason.timeout == .seconds(2))
        let retry = try #require(jason.retry)
        #expect(retry.attempts == 4 && retry.perTryTimeout == .milliseconds(500) && retry.backoff == .milliseconds(10))
        #expect(retry.retries(status: 503) && retry.retries(status: 409) && !retry.retries(status: 500))
        #expect(jason.route?.description == "VirtualService shop/reviews rule jason")
        let other = try Self.plan(state, "/p")
        #expect(Self.cluster(other)?.subset == "v1")
        #expect(other.retry == .istioDefault)  // no `retries`: Istio's default
        // The port-level setting applies on 8080 only.
        let admin = try Self.plan(state, "/p", port: 8080)
        #expect(Self.cluster(admin)?.settings.loadBalancer?.simple == .random)
    }

    @Test("an undefined subset answers 503 NR; an unknown host too")
    func undefinedSubset() throws {
        let state = try Self.state(
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: shop}
            spec:
              hosts: [reviews]
              http:
              - match: [{uri: {prefix: /ghost}}]
                route: [{destination: {host: ghost.shop.svc.cluster.local}}]
              - route: [{destination: {host: reviews, subset: v9}}]
            """)
        let missing = try #require(Self.answer(try Self.plan(state, "/p")))
        #expect(missing.status == 503 && missing.flag == "NR" && missing.details == "cluster_not_found")
        #expect(missing.body.contains("subset v9"))
        let ghost = try #require(Self.answer(try Self.plan(state, "/ghost")))
        #expect(ghost.status == 503 && ghost.flag == "NR" && ghost.body.contains("ghost.shop.svc.cluster.local"))
    }

    @Test("faults: an abort answers with FI and disables retries and timeouts; a delay is carried")
    func faults() throws {
        let state = try Self.state(
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: shop}
            spec:
              hosts: [reviews]
              http:
              - match: [{uri: {prefix: /abort}}]
                timeout: 1s
                fault: {abort: {httpStatus: 418, percentage: {value: 100}}, delay: {fixedDelay: 250ms, percentage: {value: 100}}}
                route: [{destination: {host: reviews}}]
              - match: [{uri: {prefix: /grpc}}]
                fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
                route: [{destination: {host: reviews}}]
              - fault: {delay: {fixedDelay: 1s, percentage: {value: 100}}}
                route: [{destination: {host: ratings}}]
            """)
        let abort = try Self.plan(state, "/abort")
        let answer = try #require(Self.answer(abort))
        #expect(answer.status == 418 && answer.flag == "FI" && abort.isFaultAbort)
        #expect(abort.delay == .milliseconds(250) && abort.timeout == nil && abort.retry == nil)
        let grpc = try #require(Self.answer(try Self.plan(state, "/grpc")))
        #expect(grpc.status == 200 && grpc.flag == "FI")
        #expect(grpc.headers.contains(HTTPHeaderField("grpc-status", "14")))
        #expect(grpc.headers.contains(HTTPHeaderField("content-type", "application/grpc")))
        let delayed = try Self.plan(state, "/x")
        #expect(Self.cluster(delayed)?.service.name == "ratings" && delayed.delay == .seconds(1))
    }

    @Test("an HTTPRoute wins over a VirtualService; its retry stanza maps as Istio does")
    func httpRouteRetry() throws {
        let state = try Self.state(
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: reviews, namespace: shop}
            spec:
              parentRefs: [{group: "", kind: Service, name: reviews, port: 80}]
              rules:
              - matches: [{path: {type: PathPrefix, value: /r}}]
                timeouts: {request: 3s, backendRequest: 1s}
                retry: {codes: [503], attempts: 3, backoff: 20ms}
                backendRefs: [{name: ratings, port: 80}]
              - matches: [{path: {type: PathPrefix, value: /t}}]
                timeouts: {request: 3s, backendRequest: 1s}
                backendRefs: [{name: ratings, port: 80}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews, namespace: shop}
            spec:
              hosts: [reviews]
              http: [{route: [{destination: {host: reviews}}]}]
            """)
        let retried = try Self.plan(state, "/r")
        #expect(Self.cluster(retried)?.service.name == "ratings")
        #expect(retried.route?.kind == .httpRoute)
        let retry = try #require(retried.retry)
        #expect(retry.attempts == 3 && retry.perTryTimeout == .seconds(1) && retry.backoff == .milliseconds(20))
        #expect(retry.retries(status: 503) && !retry.retries(status: 500))
        #expect(retry.retriesWithoutResponse(connectFailure: true) && retry.retriesAfterTimeout)
        #expect(retried.timeout == .seconds(3))
        // Without a retry stanza, `backendRequest` bounds the whole request and Istio's default policy applies.
        let plain = try Self.plan(state, "/t")
        #expect(plain.timeout == .seconds(1) && plain.retry == .istioDefault)
        // No rule matches: 404 NR (the VirtualService is ignored for a Service with an HTTPRoute).
        let none = try #require(Self.answer(try Self.plan(state, "/zzz")))
        #expect(none.status == 404 && none.flag == "NR")
    }
}
