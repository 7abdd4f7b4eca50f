// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Prometheus
import Synchronization

/// Istio's TCP metrics (`istio_tcp_connections_opened_total`, `…_closed_total`, `istio_tcp_sent_bytes_total`,
/// `istio_tcp_received_bytes_total`) in a Prometheus registry, labelled by a ``TrafficLabelSet``.
///
/// The four counters of one label set are looked up once and cached, so recording a connection costs one
/// dictionary lookup under a lock, not a registry registration per counter.
public final class TrafficMetrics: Sendable {
    public let labelSet: TrafficLabelSet
    private let registry: PrometheusCollectorRegistry
    private let series = Mutex<[[String]: Series]>([:])

    private struct Series: Sendable {
        let opened: Counter
        let closed: Counter
        let sent: Counter
        let received: Counter
    }

    static var opened: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "istio", metricName: "tcp_connections_opened", unitName: "total",
            helpText: "The total number of TCP connections opened"
        )
    }
    static var closed: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "istio", metricName: "tcp_connections_closed", unitName: "total",
            helpText: "The total number of TCP connections closed"
        )
    }
    static var sent: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "istio", metricName: "tcp_sent_bytes", unitName: "total",
            helpText: "The size of total bytes sent during response in case of a TCP connection"
        )
    }
    static var received: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "istio", metricName: "tcp_received_bytes", unitName: "total",
            helpText: "The size of total bytes received during request in case of a TCP connection"
        )
    }

    public init(registry: PrometheusCollectorRegistry, labelSet: TrafficLabelSet) {
        self.registry = registry
        self.labelSet = labelSet
    }

    /// Counts a connection that was accepted for proxying (before the outcome is known).
    public func opened(_ report: ConnectionReport) {
        counters(for: report).opened.increment()
    }

    /// Counts a finished connection (successful or not) and the bytes it carried.
    public func closed(_ report: ConnectionReport) {
        let counters = counters(for: report)
        counters.closed.increment()
        if report.responseBytes > 0 { counters.sent.increment(by: Int64(clamping: report.responseBytes)) }
        if report.requestBytes > 0 { counters.received.increment(by: Int64(clamping: report.requestBytes)) }
    }

    /// How many distinct label sets have been seen (a cardinality gauge for operators).
    public var seriesCount: Int { series.withLock { $0.count } }

    private func counters(for report: ConnectionReport) -> Series {
        let values = labelSet.values(for: report)
        if let existing = series.withLock({ $0[values] }) { return existing }
        let pairs = labelSet.pairs(values: values)
        let made = Series(
            opened: registry.makeCounter(descriptor: Self.opened, labels: pairs),
            closed: registry.makeCounter(descriptor: Self.closed, labels: pairs),
            sent: registry.makeCounter(descriptor: Self.sent, labels: pairs),
            received: registry.makeCounter(descriptor: Self.received, labels: pairs)
        )
        return series.withLock { table in
            if let raced = table[values] { return raced }
            table[values] = made
            return made
        }
    }
}
