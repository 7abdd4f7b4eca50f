// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import Prometheus
import Testing
import WeftModel
@testable import WeftTelemetry

@Suite("Traffic metrics and access log")
struct TrafficMetricsTests {
    private func report(flag: ConnectionReport.ResponseFlag? = nil, request: UInt64 = 0, response: UInt64 = 0) -> ConnectionReport {
        var report = ConnectionReport(
            reporter: .destination, direction: .inbound,
            source: TrafficPeer(workload: "client", namespace: "demo", principal: "spiffe://cluster.local/ns/demo/sa/client"),
            destination: TrafficPeer(workload: "echo", namespace: "demo"), destinationPort: 8080, security: .mutualTLS,
            responseFlag: flag
        )
        report.requestBytes = request
        report.responseBytes = response
        return report
    }

    private func sample(_ text: String, _ name: String, containing fragments: [String]) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") {
            if fragments.allSatisfy({ line.contains($0) }), let value = line.split(separator: " ").last {
                return Double(value)
            }
        }
        return nil
    }

    @Test("opened, closed and bytes are counted per label set")
    func counts() {
        let registry = PrometheusCollectorRegistry()
        let metrics = TrafficMetrics(registry: registry, labelSet: .standard)
        for _ in 0..<3 { metrics.opened(report()) }
        metrics.closed(report(request: 100, response: 40))
        metrics.closed(report(request: 5, response: 0))
        metrics.opened(report(flag: .deny))
        metrics.closed(report(flag: .deny))
        let text = registry.emitToString()
        #expect(sample(text, "istio_tcp_connections_opened_total", containing: [#"response_flags="-""#]) == 3)
        #expect(sample(text, "istio_tcp_connections_closed_total", containing: [#"response_flags="-""#]) == 2)
        #expect(sample(text, "istio_tcp_received_bytes_total", containing: [#"response_flags="-""#]) == 105)
        #expect(sample(text, "istio_tcp_sent_bytes_total", containing: [#"response_flags="-""#]) == 40)
        #expect(sample(text, "istio_tcp_connections_closed_total", containing: [#"response_flags="DENY""#]) == 1)
        #expect(text.contains("# HELP istio_tcp_connections_opened_total The total number of TCP connections opened"))
        #expect(metrics.seriesCount == 2)
    }

    @Test("a smaller label set gives fewer labels and merges series")
    func customSet() throws {
        let registry = PrometheusCollectorRegistry()
        let set = try TrafficLabelSet(spec: "-response_flags,+destination_port")
        let metrics = TrafficMetrics(registry: registry, labelSet: set)
        metrics.closed(report())
        metrics.closed(report(flag: .deny))
        let text = registry.emitToString()
        #expect(!text.contains("response_flags"))
        #expect(sample(text, "istio_tcp_connections_closed_total", containing: [#"destination_port="8080""#]) == 2)
        #expect(metrics.seriesCount == 1)
    }

    @Test("the access-log record has ztunnel's fields, '-' for unknowns, and the error when there is one")
    func accessLog() {
        var failed = report(flag: .connect)
        failed.error = "connection refused"
        failed.duration = .microseconds(420)
        let record = AccessLogRecord(failed)
        #expect(record["src.identity"] == "spiffe://cluster.local/ns/demo/sa/client")
        #expect(record["dst.identity"] == "-")
        #expect(record["dst.service"] == "-")
        #expect(record["response_flags"] == "CONNECT")
        #expect(record["error"] == "connection refused")
        #expect(record["duration"] == "0.42ms")
        #expect(record.fields.first?.key == "direction")
        var ok = report(request: 3, response: 7)
        ok.duration = .milliseconds(1500)
        let okRecord = AccessLogRecord(ok)
        #expect(okRecord["bytes_recv"] == "3" && okRecord["bytes_sent"] == "7")
        #expect(okRecord["duration"] == "1500ms")
        #expect(okRecord["error"] == nil)
        #expect(okRecord.metadata["src.workload"] == "client")
    }
}

@Suite("Request metrics")
struct RequestMetricsTests {
    @Test("Istio's request labels in order, reporter waypoint, unknowns, and the histograms")
    func labelsAndHistograms() {
        let sample = RequestMetrics.Sample(
            source: TrafficPeer(workload: "client", namespace: "demo", principal: "spiffe://cluster.local/ns/demo/sa/client"),
            destination: TrafficPeer(workload: "echo-v2", namespace: "demo", canonicalService: "echo", canonicalRevision: "v2"),
            service: TrafficService(hostname: "echo.demo.svc.cluster.local", name: "echo", namespace: "demo"),
            responseCode: 503, responseFlags: "UF", durationMilliseconds: 7, requestBytes: 0, responseBytes: 120
        )
        let values = Dictionary(uniqueKeysWithValues: zip(RequestMetrics.labelNames, RequestMetrics.labelValues(sample)))
        #expect(RequestMetrics.labelNames.count == 25)
        #expect(values["reporter"] == "waypoint")
        #expect(values["source_canonical_service"] == "unknown")
        #expect(values["destination_version"] == "v2")
        #expect(values["destination_service_name"] == "echo")
        #expect(values["response_code"] == "503")
        #expect(values["grpc_response_status"] == "")
        #expect(values["response_flags"] == "UF")
        let registry = PrometheusCollectorRegistry()
        let metrics = RequestMetrics(registry: registry)
        metrics.record(sample)
        metrics.record(sample)
        let text = registry.emitToString()
        #expect(text.contains(#"istio_requests_total{reporter="waypoint""#))
        #expect(text.contains("# TYPE istio_request_duration_milliseconds histogram"))
        #expect(text.split(separator: "\n").contains { $0.hasPrefix("istio_requests_total{") && $0.hasSuffix(" 2") })
        #expect(text.split(separator: "\n").contains { $0.hasPrefix("istio_response_bytes_sum{") && $0.hasSuffix(" 240.0") })
    }
}
