// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Testing
import WeftConfig
import WeftModel

/// Gateways of class `istio-waypoint` become ``Waypoint``s, with the pods that run them.
@Suite("Waypoint Gateways")
struct WaypointTests {
    @Test("Every field of a waypoint Gateway, and the workloads labelled with its name")
    func readsEveryField() throws {
        let result = load(
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: waypoint
              namespace: shop
              labels:
                istio.io/waypoint-for: all
            spec:
              gatewayClassName: istio-waypoint
              listeners:
              - name: mesh
                port: 15008
                protocol: HBONE
                allowedRoutes:
                  namespaces:
                    from: Selector
                    selector: {matchLabels: {team: shop}}
              - {name: metrics, port: 15020, protocol: HTTP}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: waypoint-5c9d
              namespace: shop
              labels: {gateway.networking.k8s.io/gateway-name: waypoint}
            status: {podIP: 10.1.0.8}
            ---
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: waypoint-vm, namespace: shop}
            spec:
              address: 10.2.0.8
              labels: {gateway.networking.k8s.io/gateway-name: waypoint}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: other-namespace
              namespace: elsewhere
              labels: {gateway.networking.k8s.io/gateway-name: waypoint}
            status: {podIP: 10.1.0.9}
            """, file: "waypoint.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let snapshot = try #require(result.snapshot)
        let expected = Waypoint(
            namespace: "shop", name: "waypoint", location: ManifestLocation(file: "waypoint.yaml", line: 4),
            waypointFor: .all,
            listeners: [
                .init(
                    name: "mesh", port: 15008, protocol: "HBONE",
                    allowedRoutes: .selector(LabelSelector(["team": "shop"]))),
                .init(name: "metrics", port: 15020, protocol: "HTTP"),
            ],
            workloads: ["Pod/shop/waypoint-5c9d", "WorkloadEntry/shop/waypoint-vm"],
            addresses: [ip("10.1.0.8"), ip("10.2.0.8")])
        #expect(snapshot.waypoints == [expected])
        #expect(snapshot.waypoint(namespace: "shop", name: "waypoint") == expected)
        #expect(snapshot.waypoint(namespace: "shop", name: "other") == nil)
        #expect(expected.hboneListener?.name == "mesh")
        #expect(expected.key == "shop/waypoint")
    }

    @Test("v1beta1 is read; waypoint-for defaults to service")
    func v1beta1AndDefaults() throws {
        let yaml = waypointYAML().replacingOccurrences(of: "/v1\n", with: "/v1beta1\n")
        let result = load(yaml)
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let waypoint = try #require(result.snapshot?.waypoints.first)
        #expect(waypoint.waypointFor == .service)
        #expect(waypoint.listeners == [.init(name: "mesh", port: 15008, protocol: "HBONE")])
    }

    @Test("A Gateway of another class is ignored with a warning")
    func otherClassIsIgnored() throws {
        let result = load(
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: ingress, namespace: istio-ingress}
            spec:
              gatewayClassName: istio
              listeners: [{name: http, port: 80, protocol: HTTP}]
            """, file: "gw.yaml")
        #expect(result.printed == [
            "gw.yaml:5: Gateway/istio-ingress/ingress: spec.gatewayClassName: warning: gatewayClassName istio is not "
                + "a waypoint (istio-waypoint); Weft runs only waypoints, so this Gateway is ignored"
        ])
        #expect(try #require(result.snapshot).waypoints.isEmpty)
    }

    @Test("Warnings: no HBONE listener, nobody runs it, the reserved name none")
    func warnings() {
        let result = load(
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: none, namespace: shop}
            spec:
              gatewayClassName: istio-waypoint
              listeners:
              - {name: web, port: 8080, protocol: HTTP}
            """, file: "gw.yaml")
        #expect(result.printed == [
            "gw.yaml:3: Gateway/shop/none: metadata.name: warning: the name \"none\" is reserved: "
                + "istio.io/use-waypoint: none opts out of waypoints, so no object can use this waypoint; rename it",
            "gw.yaml:3: Gateway/shop/none: metadata.name: warning: no Pod or WorkloadEntry in namespace shop is "
                + "labelled gateway.networking.k8s.io/gateway-name: none, so nothing runs this waypoint and traffic "
                + "sent through it fails; add the waypoint's pods to the manifests",
            "gw.yaml:6: Gateway/shop/none: spec.listeners: warning: no listener with port 15008 and protocol HBONE; "
                + "Istio's waypoints have {name: mesh, port: 15008, protocol: HBONE}, the port clients send HBONE "
                + "to — add it",
        ])
        #expect(!result.hasErrors)
    }

    struct ErrorCase: CustomTestStringConvertible, Sendable {
        var yaml: String
        var expected: [String]
        var testDescription: String { expected.first ?? "" }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(
            yaml: """
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata:
                  name: waypoint
                  labels: {istio.io/waypoint-for: services}
                spec:
                  gatewayClassName: istio-waypoint
                  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
                """,
            expected: [
                "gw.yaml:5: Gateway/default/waypoint: metadata.labels[\"istio.io/waypoint-for\"]: unknown "
                    + "istio.io/waypoint-for value \"services\"; use one of service, workload, all, none"
            ]),
        ErrorCase(
            yaml: """
                apiVersion: gateway.networking.k8s.io/v1alpha2
                kind: Gateway
                metadata: {name: waypoint}
                spec: {gatewayClassName: istio-waypoint}
                """,
            expected: [
                "gw.yaml:1: Gateway/default/waypoint: apiVersion: Gateway apiVersion "
                    + "gateway.networking.k8s.io/v1alpha2 is not supported; use gateway.networking.k8s.io/v1 or "
                    + "gateway.networking.k8s.io/v1beta1 — the Gateway was not loaded"
            ]),
        ErrorCase(
            yaml: """
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata: {name: waypoint}
                spec:
                  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
                """,
            expected: [
                "gw.yaml:4: Gateway/default/waypoint: spec.gatewayClassName: missing spec.gatewayClassName; a "
                    + "waypoint has gatewayClassName: istio-waypoint"
            ]),
        ErrorCase(
            yaml: """
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata: {name: waypoint}
                spec:
                  gatewayClassName: istio-waypoint
                  listeners:
                  - name: mesh
                    port: 150080
                    protocol: HBONE
                  - {port: 15021, protocol: HTTP, allowedRoutes: {namespaces: {from: Everywhere}}}
                """,
            expected: [
                "gw.yaml:8: Gateway/default/waypoint: spec.listeners[0].port: must be an integer between 1 and "
                    + "65535, got 150080",
                "gw.yaml:10: Gateway/default/waypoint: spec.listeners[1].name: missing spec.listeners[1].name; name "
                    + "the listener, e.g. mesh",
                "gw.yaml:10: Gateway/default/waypoint: spec.listeners[1].allowedRoutes.namespaces.from: unknown value "
                    + "\"Everywhere\"; use one of All, Same, Selector",
            ]),
    ]

    @Test("Errors name the file, line, object and field", arguments: errorCases)
    func errors(_ testCase: ErrorCase) {
        let result = load(testCase.yaml, file: "gw.yaml")
        #expect(result.printedErrors == testCase.expected)
        #expect(result.snapshot == nil)
    }
}
