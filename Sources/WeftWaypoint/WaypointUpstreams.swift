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
        /// An idle HTTP/1.1 stream taken from the keep-alive pool (its codecs are already in place).
        public var reused = false
        var target: HostPort { HostPort(parsing: endpoint) ?? HostPort(ip: ip, port: 0) }
    }

    private struct IdleKey: Hashable {
        var endpoint: HostPort
        var loop: ObjectIdentifier
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
    /// Idle upstream HTTP/1.1 streams per endpoint and event loop (Envoy's upstream connection pool): a request
    /// to an endpoint that has one reuses it instead of opening a stream and a backend connection.
    private let idle = NIOLockedValueBox<[IdleKey: [any Channel]]>([:])
    /// Idle streams kept per endpoint and event loop; more are closed.
    static let idleLimit = 128

    public init(pool: HBONEClientPool, identity: SPIFFEID, hbonePort: UInt16 = 15008) {
        self.pool = pool
        self.identity = identity
        self.hbonePort = hbonePort
        self.state = NIOLockedValueBox(([:], [:]))
    }

    /// Opens a stream to an endpoint of `service` on `port` (the Service port), on `eventLoop` (L4 use).
    public func open(service: MeshService, port: UInt16, snapshot: MeshSnapshot, on eventLoop: any EventLoop) -> EventLoopFuture<Upstream> {
        open(cluster: UpstreamCluster(service: service, port: port), snapshot: snapshot, on: eventLoop)
    }

    /// Opens a stream to an endpoint of `cluster`, on `eventLoop`.
    /// - Parameter reuse: take an idle keep-alive stream to the chosen endpoint if there is one (its HTTP/1.1
    ///   codecs and relay are in place; only ``HTTPProxyHandler`` may take those).
    public func open(
        cluster: UpstreamCluster, snapshot: MeshSnapshot, on eventLoop: any EventLoop, reuse: Bool = false
    ) -> EventLoopFuture<Upstream> {
        let service = cluster.service
        guard let servicePort = service.ports.first(where: { $0.port == cluster.port }) else {
            return eventLoop.makeFailedFuture(Failure(flag: "NR", description: "service \(service.namespace)/\(service.name) has no port \(cluster.port)"))
        }
        let candidates: [(Workload, HostPort)] = cluster.endpoints(in: snapshot).compactMap { workload in
            guard let ip = workload.addresses.first, let target = Self.targetPort(servicePort, on: workload) else { return nil }
            return (workload, HostPort(ip: ip, port: target))
        }
        guard !candidates.isEmpty else {
            return eventLoop.makeFailedFuture(
                Failure(flag: "UH", description: "no healthy upstream: no endpoint for \(cluster.name)")
            )
        }
        let key = cluster.name
        let now = NIODeadline.now()
        let order: [(Workload, HostPort)] = state.withLockedValue { state in
            let start = state.next[key, default: 0]
            state.next[key] = start &+ 1
            let rotated = (0..<candidates.count).map { candidates[(start + $0) % candidates.count] }
            // Healthy endpoints first, in round-robin order; recently refused ones last.
            return rotated.filter { (state.down[$0.1.ip] ?? now) <= now } + rotated.filter { (state.down[$0.1.ip] ?? now) > now }
        }
        // The endpoint is chosen first (load balancing); an idle stream to it, on this loop, is reused.
        if reuse, let (_, first) = order.first, let reused = takeIdle(first, on: eventLoop) {
            return eventLoop.makeSucceededFuture(Upstream(channel: reused, endpoint: "\(first)", ip: first.ip, reused: true))
        }
        return attempt(order[...], snapshot: snapshot, on: eventLoop, errors: [])
    }

    private func takeIdle(_ endpoint: HostPort, on eventLoop: any EventLoop) -> (any Channel)? {
        let key = IdleKey(endpoint: endpoint, loop: ObjectIdentifier(eventLoop))
        return idle.withLockedValue { idle in
            while var list = idle[key], let channel = list.popLast() {
                idle[key] = list.isEmpty ? nil : list
                if channel.isActive { return channel }
            }
            return nil
        }
    }

    /// Puts a finished upstream stream back for reuse (the response ended cleanly and both sides keep the
    /// connection alive). It leaves the pool when it closes; past ``idleLimit`` it is closed.
    public func release(_ channel: any Channel, endpoint: HostPort) {
        guard channel.isActive else { return }
        let key = IdleKey(endpoint: endpoint, loop: ObjectIdentifier(channel.eventLoop))
        let kept = idle.withLockedValue { idle -> Bool in
            guard idle[key, default: []].count < Self.idleLimit else { return false }
            idle[key, default: []].append(channel)
            return true
        }
        guard kept else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.idle.withLockedValue { idle in
                idle[key]?.removeAll { $0 === channel }
                if idle[key]?.isEmpty == true { idle[key] = nil }
            }
        }
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
