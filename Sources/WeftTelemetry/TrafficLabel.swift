// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A label of Istio's TCP traffic metrics, and the optional ones Weft adds on request.
public enum TrafficLabel: String, CaseIterable, Sendable {
    case reporter
    case sourceWorkload = "source_workload"
    case sourceCanonicalService = "source_canonical_service"
    case sourceCanonicalRevision = "source_canonical_revision"
    case sourceWorkloadNamespace = "source_workload_namespace"
    case sourcePrincipal = "source_principal"
    case sourceApp = "source_app"
    case sourceVersion = "source_version"
    case sourceCluster = "source_cluster"
    case destinationService = "destination_service"
    case destinationServiceNamespace = "destination_service_namespace"
    case destinationServiceName = "destination_service_name"
    case destinationWorkload = "destination_workload"
    case destinationCanonicalService = "destination_canonical_service"
    case destinationCanonicalRevision = "destination_canonical_revision"
    case destinationWorkloadNamespace = "destination_workload_namespace"
    case destinationPrincipal = "destination_principal"
    case destinationApp = "destination_app"
    case destinationVersion = "destination_version"
    case destinationCluster = "destination_cluster"
    case requestProtocol = "request_protocol"
    case responseFlags = "response_flags"
    case connectionSecurityPolicy = "connection_security_policy"
    // Optional (not in Istio's set; each multiplies the number of series).
    case destinationPort = "destination_port"
    case destinationIP = "destination_ip"
    case sourceIP = "source_ip"
    case direction

    /// ztunnel's label set, in its order (`CommonTrafficLabels`), so Istio's dashboards work unchanged.
    public static let standard: [TrafficLabel] = [
        .reporter, .sourceWorkload, .sourceCanonicalService, .sourceCanonicalRevision, .sourceWorkloadNamespace,
        .sourcePrincipal, .sourceApp, .sourceVersion, .sourceCluster, .destinationService,
        .destinationServiceNamespace, .destinationServiceName, .destinationWorkload, .destinationCanonicalService,
        .destinationCanonicalRevision, .destinationWorkloadNamespace, .destinationPrincipal, .destinationApp,
        .destinationVersion, .destinationCluster, .requestProtocol, .responseFlags, .connectionSecurityPolicy,
    ]

    /// Labels that can be added with `--metric-labels +<name>`.
    public static let optional: [TrafficLabel] = [.destinationPort, .destinationIP, .sourceIP, .direction]

    /// This label's value for `report`; `unknown` when the node does not know it (Istio's convention).
    public func value(in report: ConnectionReport) -> String {
        let value: String? =
            switch self {
            case .reporter: report.reporter.rawValue
            case .sourceWorkload: report.source.workload
            case .sourceCanonicalService, .sourceApp: report.source.canonicalService
            case .sourceCanonicalRevision, .sourceVersion: report.source.canonicalRevision
            case .sourceWorkloadNamespace: report.source.namespace
            case .sourcePrincipal: report.source.principal
            case .sourceCluster: report.source.cluster
            case .destinationService: report.service?.hostname
            case .destinationServiceNamespace: report.service?.namespace
            case .destinationServiceName: report.service?.name
            case .destinationWorkload: report.destination.workload
            case .destinationCanonicalService, .destinationApp: report.destination.canonicalService
            case .destinationCanonicalRevision, .destinationVersion: report.destination.canonicalRevision
            case .destinationWorkloadNamespace: report.destination.namespace
            case .destinationPrincipal: report.destination.principal
            case .destinationCluster: report.destination.cluster
            case .requestProtocol: "tcp"
            case .responseFlags: report.responseFlag?.rawValue ?? "-"
            case .connectionSecurityPolicy: report.security.rawValue
            case .destinationPort: report.destinationPort.map { String($0) }
            case .destinationIP: report.destination.address.map(Self.host(of:))
            case .sourceIP: report.source.address.map(Self.host(of:))
            case .direction: report.direction.rawValue
            }
        return value ?? "unknown"
    }

    /// `10.0.0.1` from `10.0.0.1:8080`, `::1` from `[::1]:8080`.
    static func host(of address: String) -> String {
        if address.hasPrefix("["), let end = address.firstIndex(of: "]") {
            return String(address[address.index(after: address.startIndex)..<end])
        }
        guard let colon = address.lastIndex(of: ":") else { return address }
        return String(address[..<colon])
    }
}
