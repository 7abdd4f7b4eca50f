// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftConfig
import WeftModel

@Suite struct WorkloadEntryTests {
    @Test(arguments: ["networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"])
    func readsEveryField(apiVersion: String) throws {
        let result = load(
            """
            apiVersion: \(apiVersion)
            kind: WorkloadEntry
            metadata:
              name: vm-1
              namespace: legacy
              annotations:
                weft.dev/node: node-b
            spec:
              address: 192.168.10.4
              network: vm-net
              labels: {app: billing}
              serviceAccount: billing
              weight: 5
              ports:
                http: 8080
                grpc: 9090
            """)
        #expect(result.diagnostics.isEmpty)
        let entry = try #require(result.snapshot?.workloads.first)
        #expect(entry.kind == .workloadEntry)
        #expect(entry.uid == "WorkloadEntry/legacy/vm-1")
        #expect(entry.addresses == [ip("192.168.10.4")])
        #expect(entry.labels == ["app": "billing"])
        #expect(entry.serviceAccount == "billing")
        #expect(entry.weight == 5)
        #expect(entry.namedPorts == ["http": 8080, "grpc": 9090])
        #expect(entry.node == "node-b")
        #expect(entry.annotations == ["weft.dev/node": "node-b"])
    }

    @Test func defaults() throws {
        let result = load(
            """
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: vm-2}
            spec: {address: "fd00::42"}
            """)
        let entry = try #require(result.snapshot?.workloads.first)
        #expect(entry.namespace == "default")
        #expect(entry.serviceAccount == "default")
        #expect(entry.weight == 1)
        #expect(entry.node == nil)
        #expect(entry.labels.isEmpty && entry.namedPorts.isEmpty)
        #expect(entry.addresses == [ip("fd00::42")])
    }

    @Test func hostnameAddressIsAnError() throws {
        let result = load(
            """
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata:
              name: vm-3
            spec:
              address: vm3.example.com
            """, file: "we.yaml")
        let diagnostic = try #require(result.single)
        #expect(diagnostic.line == 6)
        #expect(diagnostic.field == "spec.address")
        #expect(diagnostic.message.contains("only IP addresses are supported"))
    }

    @Test func missingAddressAndBadWeight() throws {
        let result = load(
            """
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata:
              name: vm-4
            spec:
              weight: -1
              ports: {http: 0}
            """)
        #expect(result.diagnostics.map(\.field) == ["spec.address", "spec.weight", "spec.ports.http"])
        #expect(result.diagnostics.map(\.line) == [5, 6, 7])
        #expect(result.diagnostics[0].message == "missing spec.address; give the workload's IP address")
        #expect(result.diagnostics[1].message == "must be an integer between 0 and 4294967295, got -1")
    }
}

@Suite struct ServiceEntryTests {
    @Test func readsEveryField() throws {
        let result = load(
            """
            apiVersion: networking.istio.io/v1beta1
            kind: ServiceEntry
            metadata:
              name: payments
              namespace: shop
            spec:
              hosts: [payments.example.com, pay.example.com]
              addresses: [240.0.0.10]
              location: MESH_INTERNAL
              resolution: STATIC
              ports:
              - {number: 443, name: https, protocol: HTTPS, targetPort: 8443}
              - {number: 80, name: http-plain}
              workloadSelector:
                labels: {app: payments}
              endpoints:
              - address: 10.2.0.1
                labels: {zone: a}
                ports: {https: 9443}
                weight: 3
                serviceAccount: pay
              - address: 10.2.0.2
            """)
        #expect(result.diagnostics.isEmpty)
        let service = try #require(result.snapshot?.services.first)
        #expect(service.kind == .serviceEntry)
        #expect(service.uid == "ServiceEntry/shop/payments")
        #expect(service.hostname == "payments.example.com")
        #expect(service.vips == [ip("240.0.0.10")])
        #expect(service.ports == [
            ServicePort(name: "https", port: 443, targetPort: .number(8443), appProtocol: "https"),
            ServicePort(name: "http-plain", port: 80, appProtocol: "http"),
        ])
        #expect(service.selector == LabelSelector(["app": "payments"]))
        #expect(service.inlineEndpoints.count == 2)
        let first = service.inlineEndpoints[0]
        #expect(first.kind == .workloadEntry)
        #expect(first.uid == "WorkloadEntry/shop/payments-0")
        #expect(first.addresses == [ip("10.2.0.1")])
        #expect(first.labels == ["zone": "a"])
        #expect(first.namedPorts == ["https": 9443])
        #expect(first.weight == 3)
        #expect(first.serviceAccount == "pay")
        #expect(service.inlineEndpoints[1].name == "payments-1")
        #expect(service.inlineEndpoints[1].serviceAccount == "default")
        #expect(result.snapshot?.workloadsByIP[ip("10.2.0.2")]?.name == "payments-1")
    }

    @Test func cidrAndDNSAreWarnings() throws {
        let result = load(
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: api}
            spec:
              hosts: [api.example.com]
              addresses: [203.0.113.0/24, 203.0.113.9]
              resolution: DNS
            """, file: "se.yaml")
        #expect(result.printed == [
            "se.yaml:6: ServiceEntry/default/api: spec.addresses[0]: warning: CIDR range 203.0.113.0/24 is not "
                + "supported as a service address and is skipped; list individual IPs",
            "se.yaml:7: ServiceEntry/default/api: spec.resolution: warning: resolution DNS is not supported, "
                + "treated as STATIC; list the endpoints' IP addresses in spec.endpoints",
        ])
        #expect(try #require(result.snapshot?.services.first).vips == [ip("203.0.113.9")])
    }

    @Test func missingHosts() throws {
        let result = load(
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: nohosts}
            spec:
              hosts: []
              ports: [{number: 80}]
            """)
        let diagnostic = try #require(result.single)
        #expect(diagnostic.line == 5)
        #expect(diagnostic.field == "spec.hosts")
        #expect(diagnostic.message == "missing spec.hosts; list at least one host name, e.g. api.example.com")
    }

    @Test func invalidValues() throws {
        let result = load(
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: bad}
            spec:
              hosts: [bad.example.com]
              location: OUTSIDE
              resolution: MAGIC
              ports:
              - {number: 99999, name: x}
              - {number: 53, name: dns, protocol: UDP}
              endpoints:
              - address: db.example.com
            """)
        #expect(result.diagnostics.map(\.field) == [
            "spec.location", "spec.resolution", "spec.ports[0].number", "spec.ports[1].protocol",
            "spec.endpoints[0].address",
        ])
        #expect(result.diagnostics.map(\.line) == [6, 7, 9, 10, 12])
        #expect(result.diagnostics.map(\.severity) == [.error, .error, .error, .warning, .error])
        #expect(result.diagnostics[0].message == "unknown value \"OUTSIDE\"; use one of MESH_EXTERNAL, MESH_INTERNAL")
        #expect(result.diagnostics[4].message.contains("only IP addresses are supported"))
    }
}
