// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// What the node will do with one outbound connection. Decided by ``OutboundPlanner`` (pure), carried out by
/// the outbound executor.
public enum OutboundPlan: Hashable, Sendable {
    /// Tunnel over HBONE to `nextHop` (`endpointIP:15008`), asking for `authority` (`endpointIP:targetPort`),
    /// and require the server to present `destinationIdentity`.
    case hbone(HBONETarget)
    /// The destination is not in the mesh: plain TCP, as ztunnel does.
    case passthrough(HostPort)
    /// Refuse the connection.
    case reject(String)
}

/// The HBONE half of a plan.
public struct HBONETarget: Hashable, Sendable {
    public var nextHop: HostPort
    public var authority: HostPort
    public var destination: Workload
    public var destinationIdentity: SPIFFEID
    /// The Service the client dialled, if it dialled a VIP.
    public var service: MeshService?
}

/// Decides how an outbound connection from a local workload reaches its destination.
///
/// Order (ztunnel's): a Service VIP whose Service uses a waypoint goes to the waypoint, with the original
/// `VIP:port` as authority (unless the source is that waypoint); another Service VIP picks a ready endpoint of the
/// Service, weighted by WorkloadEntry weight, and translates the port to the target port; a workload IP goes to that
/// workload; anything else passes through as plain TCP.
public struct OutboundPlanner: Sendable {
    /// The HBONE port every mesh workload listens on.
    public var hbonePort: UInt16 = 15008

    public init(hbonePort: UInt16 = 15008) {
        self.hbonePort = hbonePort
    }

    /// - Parameter pick: chooses an index in `0..<totalWeight`; injected so tests are deterministic.
    public func plan(
        destination: HostPort,
        snapshot: MeshSnapshot,
        from source: Workload? = nil,
        pick: (UInt64) -> UInt64 = { UInt64.random(in: 0..<$0) }
    ) -> OutboundPlan {
        if let service = snapshot.servicesByVIP[destination.ip] {
            guard let port = service.port(destination.port) else {
                return .reject("\(service.kind.rawValue) \(service.namespace)/\(service.name) has no port \(destination.port)")
            }
            if let waypoint = snapshot.waypoint(forService: service), source.map({ !waypoint.workloads.contains($0.uid) }) ?? true {
                return viaWaypoint(waypoint, service: service, destination: destination, snapshot: snapshot, pick: pick)
            }
            let candidates = snapshot.endpoints(of: service).compactMap { workload -> (Workload, IPAddress, UInt16)? in
                guard let ip = workload.addresses.first(where: { $0.isIPv4 == destination.ip.isIPv4 }) ?? workload.addresses.first,
                    let target = Self.targetPort(port, on: workload)
                else { return nil }
                return (workload, ip, target)
            }
            guard !candidates.isEmpty else {
                return .reject("no ready endpoint for \(service.namespace)/\(service.name):\(destination.port)")
            }
            let total = candidates.reduce(UInt64(0)) { $0 + UInt64(max(1, $1.0.weight)) }
            var choice = pick(total)
            var chosen = candidates[0]
            for candidate in candidates {
                let w = UInt64(max(1, candidate.0.weight))
                if choice < w {
                    chosen = candidate
                    break
                }
                choice -= w
            }
            let (workload, ip, target) = chosen
            return .hbone(
                HBONETarget(
                    nextHop: HostPort(ip: ip, port: hbonePort),
                    authority: HostPort(ip: ip, port: target),
                    destination: workload,
                    destinationIdentity: snapshot.identity(of: workload),
                    service: service
                )
            )
        }
        if let workload = snapshot.workloadsByIP[destination.ip] {
            return .hbone(
                HBONETarget(
                    nextHop: HostPort(ip: destination.ip, port: hbonePort),
                    authority: destination,
                    destination: workload,
                    destinationIdentity: snapshot.identity(of: workload),
                    service: nil
                )
            )
        }
        return .passthrough(destination)
    }

    /// To one of the waypoint's workloads on 15008, asking for the original `VIP:port`.
    private func viaWaypoint(
        _ waypoint: Waypoint, service: MeshService, destination: HostPort, snapshot: MeshSnapshot, pick: (UInt64) -> UInt64
    ) -> OutboundPlan {
        let instances = snapshot.workloads.filter { waypoint.workloads.contains($0.uid) && !$0.addresses.isEmpty }
        guard !instances.isEmpty else {
            return .reject(
                "\(service.namespace)/\(service.name) uses waypoint \(waypoint.key), which has no running workload; "
                    + "traffic is refused rather than sent around the waypoint's policies"
            )
        }
        let chosen = instances[Int(pick(UInt64(instances.count)))]
        let ip = chosen.addresses.first(where: { $0.isIPv4 == destination.ip.isIPv4 }) ?? chosen.addresses[0]
        return .hbone(
            HBONETarget(
                nextHop: HostPort(ip: ip, port: hbonePort),
                authority: destination,
                destination: chosen,
                destinationIdentity: snapshot.identity(of: chosen),
                service: service
            )
        )
    }

    /// A Service port's target port on one endpoint: the number, or the endpoint's port of that name.
    public static func targetPort(_ port: ServicePort, on workload: Workload) -> UInt16? {
        switch port.targetPort {
        case .number(let n): return n
        case .named(let name): return workload.namedPorts[name]
        }
    }
}
