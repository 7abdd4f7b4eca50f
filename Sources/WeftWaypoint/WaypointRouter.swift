// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import NIOHTTP1
import WeftHBONE
import WeftModel

/// The waypoint's answer to an inbound HBONE CONNECT: the `:authority` must be a Service `VIP:port` (the node
/// sends service traffic here with the original destination); an HTTP, HTTP/2 or gRPC port is terminated here and
/// served by ``HTTPProxyHandler``; any other port is proxied at L4 by ``TCPProxyHandler``.
public struct WaypointRouter: HBONEInboundRouter {
    let state: @Sendable () -> WaypointState
    let upstreams: WaypointUpstreams
    let logger: Logger
    let record: @Sendable (RequestRecord) -> Void
    /// See ``HTTPProxyHandler/Environment/headerTimeout``.
    public var headerTimeout: TimeAmount = .seconds(60)
    /// The rate-limit buckets, one set for the whole waypoint.
    let rateLimiter = RateLimiter()

    /// - Parameters:
    ///   - state: The configuration in force (read per stream and per request, so reloads apply at once).
    ///   - upstreams: Opens the HBONE streams to endpoints.
    ///   - record: Called once per finished request (access log, metrics).
    public init(
        state: @escaping @Sendable () -> WaypointState, upstreams: WaypointUpstreams, logger: Logger,
        record: @escaping @Sendable (RequestRecord) -> Void
    ) {
        self.state = state
        self.upstreams = upstreams
        self.logger = logger
        self.record = record
    }

    public func route(_ request: HBONERequest, from peer: HBONEPeer) -> HBONEInboundDecision {
        let waypoint = state()
        guard let (service, port) = waypoint.service(at: request.authority) else {
            return .reject(status: 400, reason: "\(request.authority) is not a Service VIP:port this waypoint serves")
        }
        let version: HTTPVersionAdapter
        switch port.resolvedAppProtocol {
        case .http: version = .http1
        case .http2, .grpc: version = .http2
        default:
            // TCP (and every protocol the waypoint does not parse): L4, spliced to an endpoint.
            let upstreams = self.upstreams
            let logger = self.logger
            let snapshot = waypoint.snapshot
            let caller = peer.identity
            return .terminate { channel in
                try channel.pipeline.syncOperations.addHandler(
                    TCPProxyHandler(upstreams: upstreams, service: service, port: port.port, snapshot: snapshot) { endpoint, error in
                        var metadata: Logger.Metadata = [
                            "service": "\(service.namespace)/\(service.name):\(port.port)", "src.identity": "\(caller)",
                            "upstream_host": "\(endpoint ?? "-")",
                        ]
                        if let error { metadata["error"] = "\(error)" }
                        logger.info("tcp connection complete", metadata: metadata)
                    }
                )
            }
        }
        var environment = HTTPProxyHandler.Environment(
            state: state, upstreams: upstreams, service: service, port: port.port, destination: request.authority,
            peerIdentity: peer.identity, peerIP: peer.remoteAddress?.ipAddress.flatMap { IPAddress($0) }, record: record,
            headerTimeout: headerTimeout, rateLimiter: rateLimiter
        )
        environment.version = version
        let settings = environment
        guard version == .http1 else {
            return .terminate { channel in
                try version.configureServer(on: channel) { HTTPProxyHandler(environment: settings) }
            }
        }
        // An `http` port: HTTP/1.1, or HTTP/2 with prior knowledge when the client starts with the h2 preface
        // (forwarded upstream as HTTP/1.1, as Envoy does for such ports).
        return .terminate { channel in
            try channel.pipeline.syncOperations.addHandler(
                HTTPProtocolDetector { detected, channel in
                    try detected.configureServer(on: channel) { HTTPProxyHandler(environment: settings) }
                }
            )
        }
    }

    public func connect(to address: SocketAddress, for peer: HBONEPeer, on eventLoop: any EventLoop) -> EventLoopFuture<any Channel> {
        eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
    }

    public func streamFinished(_ record: HBONEStreamRecord) {
        if record.status != 200 {
            logger.warning("waypoint stream refused", metadata: ["status": "\(record.status)", "reason": "\(record.reason ?? "-")"])
        }
    }
}
