// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Logging
import CoreMetrics
import Metrics
import NIOConcurrencyHelpers
import Prometheus
import WeftHBONE
import WeftIdentity
import WeftModel
import WeftTelemetry

/// The node's metrics and access log. Istio's TCP metrics go to ``TrafficMetrics``; Weft's own counters and
/// gauges are swift-metrics instruments backed by the same Prometheus registry, served on `/metrics`.
public final class NodeTelemetry: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let traffic: TrafficMetrics
    /// The cluster name reported in `*_cluster` labels (Istio's default cluster ID).
    public let cluster: String
    let factory: PrometheusMetricsFactory
    let accessLog: Logger
    private let reloadsSucceeded: CoreMetrics.Counter
    private let reloadsFailed: CoreMetrics.Counter
    private let lastReload: CoreMetrics.Gauge
    private let certificatesGauge: CoreMetrics.Gauge
    private let poolConnections: CoreMetrics.Gauge
    private let poolStreams: CoreMetrics.Gauge
    private let poolConnectionsOpened: CoreMetrics.Gauge
    private let podsEnrolled: CoreMetrics.Gauge
    private let localWorkloads: CoreMetrics.Gauge
    private let openSockets: CoreMetrics.Gauge
    private let labelSeries: CoreMetrics.Gauge
    private let certificateExpiry = CertificateExpiryGauges()

    public init(labelSet: TrafficLabelSet = .standard, cluster: String = "Kubernetes", version: String) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.cluster = cluster
        self.traffic = TrafficMetrics(registry: registry, labelSet: labelSet)
        self.factory = PrometheusMetricsFactory(registry: registry)
        self.accessLog = Logger(label: RuntimeLogLevels.accessLabel)
        // istio_build: Istio's version panel reads it; the tag says what actually runs.
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "istio", metricName: "build", unitName: "", helpText: "Istio component build info"),
            labels: [("component", "ztunnel"), ("tag", "weft-\(version)")]
        ).set(to: 1)
        reloadsSucceeded = CoreMetrics.Counter(label: "weft_config_reloads_total", dimensions: [("result", "success")], factory: factory)
        reloadsFailed = CoreMetrics.Counter(label: "weft_config_reloads_total", dimensions: [("result", "error")], factory: factory)
        lastReload = CoreMetrics.Gauge(label: "weft_config_last_reload_success_timestamp_seconds", factory: factory)
        certificatesGauge = CoreMetrics.Gauge(label: "weft_certificates", factory: factory)
        poolConnections = CoreMetrics.Gauge(label: "weft_hbone_pool_connections", factory: factory)
        poolStreams = CoreMetrics.Gauge(label: "weft_hbone_pool_streams", factory: factory)
        poolConnectionsOpened = CoreMetrics.Gauge(label: "weft_hbone_pool_connections_opened", factory: factory)
        podsEnrolled = CoreMetrics.Gauge(label: "weft_pods_enrolled", factory: factory)
        localWorkloads = CoreMetrics.Gauge(label: "weft_workloads_local", factory: factory)
        openSockets = CoreMetrics.Gauge(label: "weft_proxied_sockets_open", factory: factory)
        labelSeries = CoreMetrics.Gauge(label: "weft_traffic_label_sets", factory: factory)
        lastReload.record(Date().timeIntervalSince1970)
    }

    // MARK: - Traffic

    /// A connection started to carry bytes.
    func opened(_ report: ConnectionReport) {
        traffic.opened(report)
    }

    /// A connection that carried bytes ended: metrics and the access-log line.
    func closed(_ report: ConnectionReport) {
        traffic.closed(report)
        log(report, "connection complete")
    }

    /// A connection refused or failed before carrying bytes: counted as opened and closed (with its response
    /// flag, as ztunnel does), rejected by `reason`, and logged.
    func failed(_ report: ConnectionReport, reason: String) {
        traffic.opened(report)
        traffic.closed(report)
        rejected(reason)
        log(report, "connection failed")
    }

    /// Counts a refusal by reason (`weft_connections_rejected_total{reason}`).
    func rejected(_ reason: String) {
        CoreMetrics.Counter(label: "weft_connections_rejected_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    private func log(_ report: ConnectionReport, _ message: Logger.Message) {
        accessLog.info(message, metadata: AccessLogRecord(report).metadata)
    }

    // MARK: - Configuration

    func configReloaded(success: Bool) {
        if success {
            reloadsSucceeded.increment()
            lastReload.record(Date().timeIntervalSince1970)
        } else {
            reloadsFailed.increment()
        }
    }

    // MARK: - Scrape

    /// The Prometheus text exposition, with gauges brought up to date first.
    func exposition(context: NodeContext, podsEnrolled enrolled: Int) -> [UInt8] {
        let pool = context.pool.statistics
        poolConnections.record(pool.connections)
        poolStreams.record(pool.streams)
        poolConnectionsOpened.record(pool.connectionsOpened)
        podsEnrolled.record(enrolled)
        localWorkloads.record(context.localWorkloads.count)
        openSockets.record(context.tracker.count)
        labelSeries.record(traffic.seriesCount)
        let entries = context.identities.entries
        certificatesGauge.record(entries.count)
        certificateExpiry.update(
            entries.mapValues { $0.certificate.notAfter.timeIntervalSince1970 }, factory: factory
        )
        return registry.emitToBuffer()
    }
}

/// One `weft_certificate_expiry_timestamp_seconds{identity}` gauge per certificate held; gauges of identities
/// no longer served are removed.
final class CertificateExpiryGauges: Sendable {
    private let gauges = NIOLockedValueBox<[SPIFFEID: CoreMetrics.Gauge]>([:])

    func update(_ notAfter: [SPIFFEID: Double], factory: PrometheusMetricsFactory) {
        gauges.withLockedValue { gauges in
            for (identity, gauge) in gauges where notAfter[identity] == nil {
                gauge.destroy()
                gauges[identity] = nil
            }
            for (identity, seconds) in notAfter {
                let gauge =
                    gauges[identity]
                    ?? CoreMetrics.Gauge(
                        label: "weft_certificate_expiry_timestamp_seconds",
                        dimensions: [("identity", identity.description)], factory: factory
                    )
                gauges[identity] = gauge
                gauge.record(seconds)
            }
        }
    }
}
