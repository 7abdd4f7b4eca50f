// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
@testable import WeftTelemetry

private func sampleReport() -> ConnectionReport {
    let client = Workload(
        kind: .pod, name: "client", namespace: "demo",
        labels: ["app": "client", "version": "v2", "service.istio.io/canonical-name": "shop-client"],
        serviceAccount: "client", addresses: [IPAddress("10.0.0.1")!]
    )
    let echo = Workload(
        kind: .pod, name: "echo-1", namespace: "demo", labels: ["app.kubernetes.io/name": "echo"], serviceAccount: "echo",
        addresses: [IPAddress("10.0.0.2")!]
    )
    return ConnectionReport(
        reporter: .source, direction: .outbound,
        source: .workload(client, identity: client.identity(trustDomain: "cluster.local"), cluster: "Kubernetes", address: "10.0.0.1:40000"),
        destination: .workload(echo, identity: echo.identity(trustDomain: "cluster.local"), cluster: "Kubernetes", address: "10.0.0.2:8080"),
        service: TrafficService(hostname: "echo.demo.svc.cluster.local", name: "echo", namespace: "demo"),
        destinationPort: 8080, hboneAddress: "10.0.0.2:15008", security: .mutualTLS
    )
}

@Suite("Traffic labels")
struct TrafficLabelTests {
    @Test("the standard set is ztunnel's 23 labels in its order")
    func standardOrder() {
        let names = TrafficLabelSet.standard.labels.map(\.rawValue)
        #expect(names.count == 23)
        #expect(names.first == "reporter")
        #expect(names.last == "connection_security_policy")
        #expect(names[names.firstIndex(of: "request_protocol")! + 1] == "response_flags")
        #expect(!names.contains("destination_port"))
    }

    @Test("values follow Istio's naming rules")
    func values() {
        let report = sampleReport()
        let values = Dictionary(
            uniqueKeysWithValues: zip(TrafficLabelSet.standard.labels.map(\.rawValue), TrafficLabelSet.standard.values(for: report))
        )
        #expect(values["reporter"] == "source")
        #expect(values["source_workload"] == "client")
        // The canonical-name label wins over app; app/version labels report the canonical values, as ztunnel does.
        #expect(values["source_canonical_service"] == "shop-client")
        #expect(values["source_app"] == "shop-client")
        #expect(values["source_canonical_revision"] == "v2")
        #expect(values["source_version"] == "v2")
        #expect(values["source_principal"] == "spiffe://cluster.local/ns/demo/sa/client")
        #expect(values["destination_canonical_service"] == "echo")
        #expect(values["destination_canonical_revision"] == "latest")
        #expect(values["destination_service"] == "echo.demo.svc.cluster.local")
        #expect(values["destination_service_name"] == "echo")
        #expect(values["request_protocol"] == "tcp")
        #expect(values["response_flags"] == "-")
        #expect(values["connection_security_policy"] == "mutual_tls")
        #expect(values["source_cluster"] == "Kubernetes")
    }

    @Test("unknown values are 'unknown'; a flag replaces '-'")
    func unknowns() {
        var report = ConnectionReport(
            reporter: .destination, direction: .inbound, source: .address("192.0.2.7:5555"),
            destination: .address("10.0.0.2:8080"), security: .none, responseFlag: .deny
        )
        report.destinationPort = 8080
        #expect(TrafficLabel.sourceWorkload.value(in: report) == "unknown")
        #expect(TrafficLabel.sourcePrincipal.value(in: report) == "unknown")
        #expect(TrafficLabel.destinationService.value(in: report) == "unknown")
        #expect(TrafficLabel.responseFlags.value(in: report) == "DENY")
        #expect(TrafficLabel.connectionSecurityPolicy.value(in: report) == "none")
        #expect(TrafficLabel.sourceIP.value(in: report) == "192.0.2.7")
        #expect(TrafficLabel.destinationPort.value(in: report) == "8080")
    }

    @Test("IPv6 hosts are taken out of brackets", arguments: [
        ("[::1]:8080", "::1"), ("10.1.2.3:80", "10.1.2.3"), ("fe80::1", "fe80:"),
    ])
    func hostOf(address: String, host: String) {
        #expect(TrafficLabel.host(of: address) == host)
    }

    @Test("labels can be added and dropped")
    func spec() throws {
        let set = try TrafficLabelSet(spec: "+destination_port, -source_cluster,-destination_cluster")
        let names = set.labels.map(\.rawValue)
        #expect(names.count == 22)
        #expect(names.last == "destination_port")
        #expect(!names.contains("source_cluster") && !names.contains("destination_cluster"))
        #expect(try TrafficLabelSet(spec: "") == .standard)
        // Adding twice keeps one.
        #expect(try TrafficLabelSet(spec: "+direction,+direction").labels.filter { $0 == .direction }.count == 1)
    }

    @Test("bad label changes are refused with what is allowed", arguments: [
        ("+pod_ip", "unknown metric label 'pod_ip'; labels that can be added: destination_port"),
        ("destination_port", "must start with '+' (add) or '-' (drop)"),
        ("+reporter", "'reporter' is already in the standard set"),
        ("-destination_port", "'destination_port' is not in the set"),
    ])
    func badSpec(spec: String, message: String) {
        do {
            _ = try TrafficLabelSet(spec: spec)
            Issue.record("\(spec) was accepted")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }
}
