// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftConfig
import WeftModel

/// Which waypoint a Service and a Pod use, from `istio.io/use-waypoint` labels, with Istio's rules.
@Suite("Waypoint attachment")
struct WaypointAttachmentTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        /// Labels of Namespace `shop`, inline YAML.
        var namespace = ""
        /// Labels of Service `shop/reviews` and Pod `shop/reviews-0`.
        var service = ""
        var pod = ""
        /// Waypoint Gateways (with a pod each).
        var waypoints: [String]
        /// The waypoint keys expected for the Service and the Pod.
        var serviceWaypoint: String?
        var podWaypoint: String?
        /// Expected warnings, as `field: message`.
        var warnings: [String] = []
        var testDescription: String { name }
    }

    static let notFound =
        "does not exist in the manifests; traffic to this service goes directly until it is added (a Gateway "
        + "with gatewayClassName: istio-waypoint)"

    static let cases: [Case] = [
        Case(
            name: "namespace label, waypoint for services (default)", namespace: "istio.io/use-waypoint: waypoint",
            waypoints: [waypointYAML()], serviceWaypoint: "shop/waypoint", podWaypoint: nil),
        Case(
            name: "namespace label, waypoint for all", namespace: "istio.io/use-waypoint: waypoint",
            waypoints: [waypointYAML(waypointFor: "all")], serviceWaypoint: "shop/waypoint",
            podWaypoint: "shop/waypoint"),
        Case(
            name: "namespace label, waypoint for workloads", namespace: "istio.io/use-waypoint: waypoint",
            waypoints: [waypointYAML(waypointFor: "workload")], serviceWaypoint: nil, podWaypoint: "shop/waypoint"),
        Case(
            name: "namespace label, waypoint for none", namespace: "istio.io/use-waypoint: waypoint",
            waypoints: [waypointYAML(waypointFor: "none")], serviceWaypoint: nil, podWaypoint: nil),
        Case(
            name: "service label beats namespace label", namespace: "istio.io/use-waypoint: waypoint",
            service: "istio.io/use-waypoint: reviews-waypoint",
            waypoints: [waypointYAML(), waypointYAML("reviews-waypoint")],
            serviceWaypoint: "shop/reviews-waypoint", podWaypoint: nil),
        Case(
            name: "none on the service and the pod opts out of the namespace's waypoint",
            namespace: "istio.io/use-waypoint: waypoint", service: "istio.io/use-waypoint: none",
            pod: "istio.io/use-waypoint: none", waypoints: [waypointYAML(waypointFor: "all")], serviceWaypoint: nil,
            podWaypoint: nil),
        Case(
            name: "none on the namespace attaches nothing", namespace: "istio.io/use-waypoint: none",
            waypoints: [waypointYAML(waypointFor: "all")], serviceWaypoint: nil, podWaypoint: nil),
        Case(
            name: "pod label, waypoint for workloads", pod: "istio.io/use-waypoint: waypoint",
            waypoints: [waypointYAML(waypointFor: "workload")], serviceWaypoint: nil, podWaypoint: "shop/waypoint"),
        Case(
            name: "pod label naming a waypoint for services only", pod: "istio.io/use-waypoint: waypoint",
            waypoints: [waypointYAML()], serviceWaypoint: nil, podWaypoint: nil,
            warnings: [
                "metadata.labels[\"istio.io/use-waypoint\"]: waypoint shop/waypoint has istio.io/waypoint-for: "
                    + "service, so it does not accept workloads; traffic to this workload goes directly — set "
                    + "istio.io/waypoint-for: workload or all on the Gateway"
            ]),
        Case(
            name: "service label naming a waypoint for workloads only", service: "istio.io/use-waypoint: waypoint",
            waypoints: [waypointYAML(waypointFor: "workload")], serviceWaypoint: nil, podWaypoint: nil,
            warnings: [
                "metadata.labels[\"istio.io/use-waypoint\"]: waypoint shop/waypoint has istio.io/waypoint-for: "
                    + "workload, so it does not accept services; traffic to this service goes directly — set "
                    + "istio.io/waypoint-for: service or all on the Gateway"
            ]),
        Case(
            name: "cross-namespace waypoint allowing all namespaces",
            service: "istio.io/use-waypoint: shared, istio.io/use-waypoint-namespace: istio-waypoints",
            waypoints: [waypointYAML("shared", namespace: "istio-waypoints", allowedFrom: "All")],
            serviceWaypoint: "istio-waypoints/shared", podWaypoint: nil),
        Case(
            name: "cross-namespace waypoint on the namespace label",
            namespace: "istio.io/use-waypoint: shared, istio.io/use-waypoint-namespace: istio-waypoints",
            waypoints: [waypointYAML("shared", namespace: "istio-waypoints", waypointFor: "all", allowedFrom: "All")],
            serviceWaypoint: "istio-waypoints/shared", podWaypoint: "istio-waypoints/shared"),
        Case(
            name: "cross-namespace waypoint allowing only its own namespace",
            service: "istio.io/use-waypoint: shared, istio.io/use-waypoint-namespace: istio-waypoints",
            waypoints: [waypointYAML("shared", namespace: "istio-waypoints")], serviceWaypoint: nil, podWaypoint: nil,
            warnings: [
                "metadata.labels[\"istio.io/use-waypoint\"]: waypoint istio-waypoints/shared does not allow objects "
                    + "from namespace shop: its HBONE listener allows only its own namespace; add "
                    + "allowedRoutes.namespaces.from: All (or a Selector) to it, or traffic to this service goes "
                    + "directly"
            ]),
        Case(
            name: "a waypoint with the same name in the service's namespace is not the one named",
            service: "istio.io/use-waypoint: waypoint, istio.io/use-waypoint-namespace: other",
            waypoints: [waypointYAML()], serviceWaypoint: nil, podWaypoint: nil,
            warnings: ["metadata.labels[\"istio.io/use-waypoint\"]: waypoint other/waypoint " + notFound]),
        Case(
            name: "service label naming a missing waypoint", namespace: "istio.io/use-waypoint: waypoint",
            service: "istio.io/use-waypoint: missing", waypoints: [waypointYAML()], serviceWaypoint: nil,
            podWaypoint: nil,
            warnings: ["metadata.labels[\"istio.io/use-waypoint\"]: waypoint shop/missing " + notFound]),
    ]

    /// The Namespace, Service and Pod of a case, with its waypoints.
    static func manifests(_ testCase: Case) -> String {
        let podLabels = testCase.pod.isEmpty ? "" : ", " + testCase.pod
        var parts = [
            namespaceYAML("shop", labels: testCase.namespace),
            serviceYAML("reviews", labels: testCase.service),
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: reviews-0, namespace: shop, labels: {app: reviews\(podLabels)}}
            status: {podIP: 10.1.0.1}
            """,
        ]
        parts += testCase.waypoints
        return parts.joined(separator: "\n---\n")
    }

    @Test("Resolution table", arguments: cases)
    func resolution(_ testCase: Case) throws {
        let result = load(Self.manifests(testCase))
        #expect(!result.hasErrors, "\(result.printed)")
        #expect(result.warnings.map { "\($0.field): \($0.message)" } == testCase.warnings)
        let snapshot = try #require(result.snapshot)
        let service = try #require(snapshot.services.first { $0.name == "reviews" })
        let pod = try #require(snapshot.workloads.first { $0.name == "reviews-0" })
        #expect(snapshot.waypoint(forService: service)?.key == testCase.serviceWaypoint)
        #expect(snapshot.waypoint(forWorkload: pod)?.key == testCase.podWaypoint)
        if let key = testCase.serviceWaypoint {
            let waypoint = try #require(snapshot.waypoints.first { $0.key == key })
            #expect(snapshot.services(usingWaypoint: waypoint).map(\.name) == ["reviews"])
        }
    }

    @Test("A missing waypoint is a warning at the label's line; a namespace's label is reported once")
    func missingWaypointLines() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: shop
              labels:
                istio.io/use-waypoint: ghost
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: reviews
              namespace: shop
              labels:
                app: reviews
                istio.io/use-waypoint: phantom
            ---
            \(serviceYAML("ratings"))
            ---
            \(serviceYAML("details"))
            """, file: "mesh.yaml")
        #expect(result.printed == [
            "mesh.yaml:6: Namespace/shop: metadata.labels[\"istio.io/use-waypoint\"]: warning: waypoint shop/ghost "
                + "does not exist in the manifests; traffic to objects in this namespace goes directly until it is "
                + "added (a Gateway with gatewayClassName: istio-waypoint)",
            "mesh.yaml:15: Service/shop/reviews: metadata.labels[\"istio.io/use-waypoint\"]: warning: waypoint "
                + "shop/phantom " + Self.notFound,
        ])
        let snapshot = try #require(result.snapshot)
        #expect(snapshot.waypointsByService.isEmpty)
    }

    @Test("ServiceEntries and WorkloadEntries attach too; a waypoint's own pods never do")
    func otherKinds() throws {
        let result = load(
            documents(
                namespaceYAML("shop", labels: "istio.io/use-waypoint: waypoint"),
                waypointYAML(waypointFor: "all"),
                """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: payments, namespace: shop, labels: {istio.io/use-waypoint: none}}
                spec:
                  hosts: [payments.example.com]
                  addresses: [240.0.0.1]
                  ports: [{number: 443, name: tls, protocol: TLS}]
                ---
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: vm, namespace: shop}
                spec: {address: 10.3.0.1, labels: {app: vm}}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: waypoint
                  namespace: shop
                  labels: {gateway.networking.k8s.io/gateway-name: waypoint}
                spec:
                  ports: [{name: mesh, port: 15008}]
                """))
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let snapshot = try #require(result.snapshot)
        #expect(snapshot.waypointsByService.isEmpty)
        #expect(snapshot.waypointsByWorkload.keys.sorted() == ["WorkloadEntry/shop/vm"])
    }

    @Test("use-waypoint-namespace without use-waypoint, or an empty name, is ignored with a warning")
    func labelMistakes() {
        let result = load(
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: reviews
              labels:
                istio.io/use-waypoint-namespace: istio-waypoints
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: reviews-0
              labels:
                istio.io/use-waypoint: ""
            status: {podIP: 10.1.0.1}
            """, file: "labels.yaml")
        #expect(result.printed == [
            "labels.yaml:6: Service/default/reviews: metadata.labels[\"istio.io/use-waypoint-namespace\"]: warning: "
                + "istio.io/use-waypoint-namespace is ignored without istio.io/use-waypoint; add "
                + "istio.io/use-waypoint: <waypoint name>",
            "labels.yaml:13: Pod/default/reviews-0: metadata.labels[\"istio.io/use-waypoint\"]: warning: empty "
                + "istio.io/use-waypoint is ignored; name a waypoint Gateway, or write none to opt out of the "
                + "namespace's waypoint",
        ])
    }
}
