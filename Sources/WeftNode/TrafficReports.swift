// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import WeftHBONE
import WeftModel
import WeftTelemetry

/// Builds the ``ConnectionReport`` of each kind of connection the node carries, from what it knows at the
/// time: the configuration for workloads and services, the mTLS peer for identities.
enum TrafficReports {
    /// An outbound connection from a local workload, over HBONE to `target`.
    static func outbound(
        from source: Workload, identity: SPIFFEID, client: SocketAddress?, to target: HBONETarget, cluster: String
    ) -> ConnectionReport {
        ConnectionReport(
            reporter: .source,
            direction: .outbound,
            source: .workload(source, identity: identity, cluster: cluster, address: client.map(Self.format)),
            destination: .workload(
                target.destination, identity: target.destinationIdentity, cluster: cluster,
                address: "\(target.authority)"
            ),
            service: target.service.map(Self.service),
            destinationPort: target.authority.port,
            hboneAddress: "\(target.nextHop)",
            security: .mutualTLS
        )
    }

    /// An outbound connection that leaves the mesh in plaintext (destination not in the configuration), or that
    /// was refused before a destination was chosen.
    static func outbound(
        from source: Workload, identity: SPIFFEID, client: SocketAddress?, toAddress destination: HostPort,
        snapshot: MeshSnapshot, cluster: String
    ) -> ConnectionReport {
        ConnectionReport(
            reporter: .source,
            direction: .outbound,
            source: .workload(source, identity: identity, cluster: cluster, address: client.map(Self.format)),
            destination: .address("\(destination)"),
            service: snapshot.servicesByVIP[destination.ip].map(Self.service),
            destinationPort: destination.port,
            security: .none
        )
    }

    /// An inbound HBONE stream to a local workload.
    static func inbound(_ record: HBONEStreamRecord, snapshot: MeshSnapshot, cluster: String) -> ConnectionReport {
        let peerAddress = record.peer.remoteAddress
        let source = caller(
            identity: record.peer.identity, ip: peerAddress?.ipAddress.flatMap { IPAddress($0) },
            address: peerAddress.map(Self.format), snapshot: snapshot, cluster: cluster
        )
        var destination = TrafficPeer.address(record.request.map { "\($0.authority)" })
        if let authority = record.request?.authority, let workload = snapshot.workloadsByIP[authority.ip] {
            destination = .workload(
                workload, identity: snapshot.identity(of: workload), cluster: cluster, address: "\(authority)"
            )
        }
        let service = record.request?.serviceHost.flatMap { host in snapshot.services.first { $0.hostname == host } }
        return ConnectionReport(
            reporter: .destination,
            direction: .inbound,
            source: source,
            destination: destination,
            service: service.map(Self.service),
            destinationPort: record.request?.authority.port,
            hboneAddress: record.peer.localAddress.map(Self.format),
            security: .mutualTLS
        )
    }

    /// A plaintext connection into a captured pod (port 15006), from outside the mesh.
    static func inboundPlaintext(
        to workload: Workload, destination: HostPort, client: SocketAddress?, snapshot: MeshSnapshot, cluster: String
    ) -> ConnectionReport {
        ConnectionReport(
            reporter: .destination,
            direction: .inbound,
            source: .address(client.map(Self.format)),
            destination: .workload(
                workload, identity: snapshot.identity(of: workload), cluster: cluster, address: "\(destination)"
            ),
            destinationPort: destination.port,
            security: .none
        )
    }

    /// An mTLS caller, named from the configuration only when its address and certificate agree; otherwise only by
    /// its identity.
    static func caller(
        identity: SPIFFEID, ip: IPAddress?, address: String?, snapshot: MeshSnapshot, cluster: String
    ) -> TrafficPeer {
        if let ip, let workload = snapshot.workloadsByIP[ip], snapshot.identity(of: workload) == identity {
            return .workload(workload, identity: identity, cluster: cluster, address: address)
        }
        return .identity(identity, address: address)
    }

    static func service(_ service: MeshService) -> TrafficService {
        TrafficService(hostname: service.hostname, name: service.name, namespace: service.namespace)
    }

    /// `10.0.0.1:8080` (NIO prints `[IPv4]10.0.0.1/10.0.0.1:8080`).
    static func format(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }
}
