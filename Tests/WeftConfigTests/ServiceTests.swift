// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftConfig
import WeftModel

@Suite struct ServiceTests {
    @Test func readsEveryField() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: shop
              labels: {tier: front}
            spec:
              clusterIP: 10.96.0.10
              clusterIPs: [10.96.0.10, "fd00:96::10"]
              selector:
                app: web
              ports:
              - name: http
                port: 80
                targetPort: 8080
              - name: grpc-api
                port: 9000
                targetPort: grpc
              - name: metrics
                port: 15020
                appProtocol: prometheus
                protocol: TCP
            """)
        #expect(result.diagnostics.isEmpty)
        let snapshot = try #require(result.snapshot)
        let service = try #require(snapshot.services.first)
        #expect(service.kind == .service)
        #expect(service.uid == "Service/shop/web")
        #expect(service.hostname == "web.shop.svc.cluster.local")
        #expect(service.labels == ["tier": "front"])
        #expect(service.vips == [ip("10.96.0.10"), ip("fd00:96::10")])
        #expect(service.selector == LabelSelector(["app": "web"]))
        #expect(service.ports == [
            ServicePort(name: "http", port: 80, targetPort: .number(8080), appProtocol: "http"),
            ServicePort(name: "grpc-api", port: 9000, targetPort: .named("grpc"), appProtocol: "grpc"),
            ServicePort(name: "metrics", port: 15020, targetPort: .number(15020), appProtocol: "prometheus"),
        ])
        #expect(snapshot.servicesByVIP[ip("fd00:96::10")]?.name == "web")
    }

    @Test func defaultsAndHeadless() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Service
            metadata: {name: db}
            spec:
              clusterIP: None
              ports: [{port: 5432}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: external}
            """)
        #expect(result.diagnostics.isEmpty)
        let services = try #require(result.snapshot?.services)
        #expect(services.count == 2)
        #expect(services[0].vips.isEmpty)
        #expect(services[0].namespace == "default")
        #expect(services[0].ports == [ServicePort(port: 5432, targetPort: .number(5432))])
        #expect(services[0].selector == nil)
        #expect(services[1].ports.isEmpty && services[1].vips.isEmpty && services[1].selector == nil)
    }

    @Test func udpPortIsSkippedWithWarning() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Service
            metadata: {name: dns, namespace: kube-system}
            spec:
              clusterIP: 10.96.0.53
              ports:
              - {name: dns, port: 53, protocol: UDP}
              - {name: dns-tcp, port: 53, protocol: TCP}
            """, file: "dns.yaml")
        #expect(result.printed == [
            "dns.yaml:7: Service/kube-system/dns: spec.ports[0].protocol: warning: protocol UDP is not supported "
                + "(Weft carries TCP only); this port is skipped"
        ])
        #expect(try #require(result.snapshot?.services.first).ports.map(\.name) == ["dns-tcp"])
    }

    struct PortCase: CustomTestStringConvertible, Sendable {
        var yaml: String
        var line: Int
        var field: String
        var message: String
        var testDescription: String { field + ": " + message }
    }

    static let portCases: [PortCase] = [
        PortCase(
            yaml: "- port: http", line: 7, field: "spec.ports[0].port",
            message: "must be an integer between 1 and 65535, got \"http\""),
        PortCase(
            yaml: "- port: 0", line: 7, field: "spec.ports[0].port",
            message: "must be an integer between 1 and 65535, got 0"),
        PortCase(
            yaml: "- port: 65536", line: 7, field: "spec.ports[0].port",
            message: "must be an integer between 1 and 65535, got 65536"),
        PortCase(
            yaml: "- port: \"80\"", line: 7, field: "spec.ports[0].port",
            message: "must be an integer between 1 and 65535, got \"80\""),
        PortCase(
            yaml: "- name: web\n  targetPort: 80", line: 7, field: "spec.ports[0].port",
            message: "missing spec.ports[0].port; give the port clients connect to, between 1 and 65535"),
        PortCase(
            yaml: "- port: 80\n  targetPort: 70000", line: 8, field: "spec.ports[0].targetPort",
            message: "must be an integer between 1 and 65535, got 70000"),
        PortCase(
            yaml: "- port: 80\n  targetPort: \"8080\"", line: 8, field: "spec.ports[0].targetPort",
            message: "must be a port number or a port name, got \"8080\"; write the number without quotes"),
        PortCase(
            yaml: "- port: 80\n  protocol: QUIC", line: 8, field: "spec.ports[0].protocol",
            message: "unknown protocol \"QUIC\"; use one of SCTP, TCP, UDP"),
        PortCase(
            yaml: "- {name: http, port: 80}\n- {name: http, port: 81}", line: 8, field: "spec.ports[1].name",
            message: "port name \"http\" is already used by spec.ports[0]; give each port a unique name"),
        PortCase(
            yaml: "- {name: a, port: 80}\n- {name: b, port: 80}", line: 8, field: "spec.ports[1].port",
            message: "port 80 is already declared by spec.ports[0]; declare each port number once"),
        PortCase(
            yaml: "  port: 80", line: 6, field: "spec.ports",
            message: "must be a list, got a mapping"),
    ]

    @Test(arguments: portCases)
    func portErrors(_ testCase: PortCase) throws {
        let indented = testCase.yaml.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n" + indented + "\n"
        let result = load(text, file: "svc.yaml")
        let diagnostic = try #require(result.single, "\(result.printed)")
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.object == "Service/default/web")
        #expect(diagnostic.line == testCase.line)
        #expect(diagnostic.field == testCase.field)
        #expect(diagnostic.message == testCase.message)
        #expect(result.snapshot == nil)
    }

    @Test func invalidClusterIP() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              clusterIPs:
              - 10.96.0.1
              - 10.96.0.999
            """)
        let diagnostic = try #require(result.single)
        #expect(diagnostic.line == 7)
        #expect(diagnostic.field == "spec.clusterIPs[1]")
    }

    @Test func duplicateVIPAcrossServices() throws {
        let result = ManifestLoader.load(sources: [
            (
                name: "a.yaml",
                text: "apiVersion: v1\nkind: Service\nmetadata: {name: one}\nspec: {clusterIP: 10.96.0.7}\n"
            ),
            (
                name: "b.yaml",
                text: """
                    apiVersion: networking.istio.io/v1
                    kind: ServiceEntry
                    metadata: {name: two, namespace: ext}
                    spec:
                      hosts: [two.example.com]
                      addresses:
                      - 10.96.0.7
                    """
            ),
        ])
        let diagnostic = try #require(result.single, "\(result.printed)")
        #expect(
            diagnostic.description
                == "b.yaml:7: ServiceEntry/ext/two: spec.addresses[0]: virtual IP 10.96.0.7 is already used by "
                + "Service/default/one (a.yaml:4); every service needs its own VIP — correct or remove one of them")
        #expect(result.snapshot == nil)
    }
}
