// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// One upstream cluster's state as operators see it (Envoy's cluster stats): endpoints, ejections, circuit-breaker
/// gauges and overflow totals. Rendered in the waypoint's `/metrics`.
public struct ClusterStatistics: Hashable, Sendable {
    public var cluster: String
    public var endpoints: Int
    public var ejectedEndpoints: Int
    public var activeRequests: Int
    public var activeConnections: Int
    public var pendingRequests: Int
    public var activeRetries: Int
    public var requestOverflows: Int
    public var connectionOverflows: Int
    public var pendingOverflows: Int
    public var retryOverflows: Int

    /// Prometheus text exposition of every cluster (`weft_waypoint_cluster_*`), families in a fixed order.
    public static func exposition(_ clusters: [ClusterStatistics]) -> String {
        let sorted = clusters.sorted { $0.cluster < $1.cluster }
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ values: [(labels: String, value: Int)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in values { text += "\(name){\(labels)} \(value)\n" }
        }
        func label(_ cluster: String) -> String {
            var escaped = ""
            for character in cluster {
                switch character {
                case "\\": escaped += "\\\\"
                case "\"": escaped += "\\\""
                case "\n": escaped += "\\n"
                default: escaped.append(character)
                }
            }
            return "cluster=\"" + escaped + "\""
        }
        guard !sorted.isEmpty else { return "" }
        family("weft_waypoint_cluster_endpoints", "gauge", "Endpoints of the cluster.", sorted.map { (label($0.cluster), $0.endpoints) })
        family(
            "weft_waypoint_cluster_ejected_endpoints", "gauge", "Endpoints ejected by outlier detection now.",
            sorted.map { (label($0.cluster), $0.ejectedEndpoints) }
        )
        family("weft_waypoint_cluster_requests_active", "gauge", "Requests in flight.", sorted.map { (label($0.cluster), $0.activeRequests) })
        family(
            "weft_waypoint_cluster_connections_active", "gauge", "Upstream HTTP/1.1 streams open (busy or idle).",
            sorted.map { (label($0.cluster), $0.activeConnections) }
        )
        family(
            "weft_waypoint_cluster_requests_pending", "gauge", "Requests waiting for a connection.",
            sorted.map { (label($0.cluster), $0.pendingRequests) }
        )
        family("weft_waypoint_cluster_retries_active", "gauge", "Requests in a retry.", sorted.map { (label($0.cluster), $0.activeRetries) })
        family(
            "weft_waypoint_cluster_overflow_total", "counter",
            "Admissions refused by the circuit breakers (503 UO), by limit; retries: retries not made.",
            sorted.flatMap { c in
                [
                    (label(c.cluster) + ",limit=\"requests\"", c.requestOverflows),
                    (label(c.cluster) + ",limit=\"connections\"", c.connectionOverflows),
                    (label(c.cluster) + ",limit=\"pending\"", c.pendingOverflows),
                    (label(c.cluster) + ",limit=\"retries\"", c.retryOverflows),
                ]
            }
        )
        return text
    }
}
