// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOConcurrencyHelpers
import NIOCore
import WeftHBONE
import WeftModel

/// Opens the waypoint's upstream for a request: an HBONE stream, as the waypoint's identity, to one endpoint of
/// the chosen Service. Endpoints are taken round robin; one that refused a connection is skipped for a few
/// seconds, and the next endpoint is tried at once (at most every endpoint once per request).
public final class WaypointUpstreams: Sendable {
    /// A stream to an endpoint, ready for HTTP/1.1.
    public struct Upstream: Sendable {
        public var channel: any Channel
        /// `ip:port` of the endpoint.
        public var endpoint: String
        public var ip: IPAddress
    }

    /// Why no upstream could be opened, with the response it maps to.
    public struct Failure: Error, CustomStringConvertible {
        /// 503 for both: no endpoint (Envoy `UH`), every endpoint refused (`UF`).
        public var flag: String
        public var description: String
    }

    private let pool: HBONEClientPool
    private let identity: SPIFFEID
    private let hbonePort: UInt16
    private let state: NIOLockedValueBox<(next: [String: Int], down: [IPAddress: NIODeadline])>

    public init(pool: HBONEClientPool, identity: SPIFFEID, hbonePort: UInt16 = 15008) {
        self.pool = pool
        self.identity = identity
        self.hbonePort = hbonePort
        self.state = NIOLockedValueBox(([:], [:]))
    }

    /// Opens a stream to an endpoint of `service` on `port` (the Service port), on `eventLoop`.
    public func open(
        service: MeshService, port: UInt16, snapshot: MeshSnapshot, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Upstream> {
        guard let servicePort = service.ports.first(where: { $0.port == port }) else {
            return eventLoop.makeFailedFuture(Failure(flag: "NR", description: "service \(service.namespace)/\(service.name) has no port \(port)"))
        }
        let candidates: [(Workload, HostPort)] = snapshot.endpoints(of: service).compactMap { workload in
            guard let ip = workload.addresses.first, let target = Self.targetPort(servicePort, on: workload) else { return nil }
            return (workload, HostPort(ip: ip, port: target))
        }
        guard !candidates.isEmpty else {
            return eventLoop.makeFailedFuture(
                Failure(flag: "UH", description: "no endpoint for \(service.namespace)/\(service.name):\(port)")
            )
        }
        let key = "\(service.namespace)/\(service.name)"
        let now = NIODeadline.now()
        let order: [(Workload, HostPort)] = state.withLockedValue { state in
            let start = state.next[key, default: 0]
            state.next[key] = start &+ 1
            let rotated = (0..<candidates.count).map { candidates[(start + $0) % candidates.count] }
            // Healthy endpoints first, in round-robin order; recently refused ones last.
            return rotated.filter { (state.down[$0.1.ip] ?? now) <= now } + rotated.filter { (state.down[$0.1.ip] ?? now) > now }
        }
        return attempt(order[...], snapshot: snapshot, on: eventLoop, errors: [])
    }

    private func attempt(
        _ order: ArraySlice<(Workload, HostPort)>, snapshot: MeshSnapshot, on eventLoop: any EventLoop, errors: [String]
    ) -> EventLoopFuture<Upstream> {
        guard let (workload, target) = order.first else {
            return eventLoop.makeFailedFuture(
                Failure(flag: "UF", description: "every endpoint refused: " + errors.joined(separator: "; "))
            )
        }
        let key = HBONEClientPool.Key(
            source: identity, destination: snapshot.identity(of: workload), address: HostPort(ip: target.ip, port: hbonePort),
            sourceIP: nil
        )
        let request = HBONERequest(authority: target, traceparent: HBONEHeaders.traceparent())
        return pool.openStream(key: key, request: request, on: eventLoop).map { Upstream(channel: $0, endpoint: "\(target)", ip: target.ip) }
            .flatMapError { [self] error in
                state.withLockedValue { $0.down[target.ip] = .now() + .seconds(5) }
                return attempt(order.dropFirst(), snapshot: snapshot, on: eventLoop, errors: errors + ["\(target): \(error)"])
            }
    }

    static func targetPort(_ port: ServicePort, on workload: Workload) -> UInt16? {
        switch port.targetPort {
        case .number(let n): n
        case .named(let name): workload.namedPorts[name]
        }
    }
}
