// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Prometheus
import Synchronization

/// Istio's request metrics as a waypoint reports them (`reporter="waypoint"`): `istio_requests_total`,
/// `istio_request_duration_milliseconds`, `istio_request_bytes` and `istio_response_bytes` (histograms with
/// Envoy's default buckets), labelled with Istio's request label set in its order.
public final class RequestMetrics: Sendable {
    /// One request, as the labels and histograms need it.
    public struct Sample: Sendable {
        public var source: TrafficPeer
        public var destination: TrafficPeer
        public var service: TrafficService?
        /// `http` or `grpc`.
        public var requestProtocol: String
        public var responseCode: Int
        public var grpcStatus: String?
        /// Envoy's flags (`-` when none).
        public var responseFlags: String
        public var durationMilliseconds: Double
        public var requestBytes: Int
        public var responseBytes: Int

        public init(
            source: TrafficPeer, destination: TrafficPeer, service: TrafficService?, requestProtocol: String = "http",
            responseCode: Int, grpcStatus: String? = nil, responseFlags: String, durationMilliseconds: Double,
            requestBytes: Int, responseBytes: Int
        ) {
            self.source = source
            self.destination = destination
            self.service = service
            self.requestProtocol = requestProtocol
            self.responseCode = responseCode
            self.grpcStatus = grpcStatus
            self.responseFlags = responseFlags
            self.durationMilliseconds = durationMilliseconds
            self.requestBytes = requestBytes
            self.responseBytes = responseBytes
        }
    }

    /// Envoy's default histogram buckets, used by Istio for durations (ms) and sizes.
    public static let buckets: [Double] = [
        0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
    ]

    /// Istio's request labels, in `istio_requests_total`'s order.
    public static let labelNames = [
        "reporter", "source_workload", "source_canonical_service", "source_canonical_revision",
        "source_workload_namespace", "source_principal", "source_app", "source_version", "source_cluster",
        "destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
        "destination_version", "destination_service", "destination_canonical_service",
        "destination_canonical_revision", "destination_service_name", "destination_service_namespace",
        "destination_cluster", "request_protocol", "response_code", "grpc_response_status", "response_flags",
        "connection_security_policy",
    ]

    private struct Series: Sendable {
        let requests: Counter
        let duration: ValueHistogram
        let requestSize: ValueHistogram
        let responseSize: ValueHistogram
    }

    private let registry: PrometheusCollectorRegistry
    private let series = Mutex<[[String]: Series]>([:])

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// The label values of `sample`, in ``labelNames`` order; unknown values are `unknown`.
    public static func labelValues(_ sample: Sample) -> [String] {
        func v(_ value: String?) -> String { value ?? "unknown" }
        let s = sample.source
        let d = sample.destination
        return [
            "waypoint", v(s.workload), v(s.canonicalService), v(s.canonicalRevision), v(s.namespace), v(s.principal),
            v(s.canonicalService), v(s.canonicalRevision), v(s.cluster), v(d.workload), v(d.namespace), v(d.principal),
            v(d.canonicalService), v(d.canonicalRevision), v(sample.service?.hostname), v(d.canonicalService),
            v(d.canonicalRevision), v(sample.service?.name), v(sample.service?.namespace), v(d.cluster),
            sample.requestProtocol, String(sample.responseCode), sample.grpcStatus ?? "", sample.responseFlags,
            "mutual_tls",
        ]
    }

    public func record(_ sample: Sample) {
        let values = Self.labelValues(sample)
        let series = self.series(values)
        series.requests.increment()
        series.duration.record(sample.durationMilliseconds)
        series.requestSize.record(Double(sample.requestBytes))
        series.responseSize.record(Double(sample.responseBytes))
    }

    private func series(_ values: [String]) -> Series {
        if let existing = series.withLock({ $0[values] }) { return existing }
        let labels = Array(zip(Self.labelNames, values))
        func histogram(_ name: String, _ help: String) -> ValueHistogram {
            registry.makeValueHistogram(
                descriptor: MetricNameDescriptor(namespace: "istio", metricName: name, unitName: "", helpText: help),
                labels: labels, buckets: Self.buckets
            )
        }
        let made = Series(
            requests: registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "istio", metricName: "requests", unitName: "total", helpText: "Requests handled"
                ),
                labels: labels
            ),
            duration: histogram("request_duration_milliseconds", "Request duration in milliseconds"),
            requestSize: histogram("request_bytes", "Request body size in bytes"),
            responseSize: histogram("response_bytes", "Response body size in bytes")
        )
        return series.withLock { table in
            if let raced = table[values] { return raced }
            table[values] = made
            return made
        }
    }
}
