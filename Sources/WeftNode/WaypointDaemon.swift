// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals
import WeftHBONE
import WeftIdentity
import WeftModel
import WeftRoute
import WeftTelemetry
import WeftWaypoint

/// `weft waypoint`: the L7 proxy for the Services that use it. It runs as one workload of the configuration (a
/// waypoint pod): it listens on that workload's addresses on 15008 with the workload's certificate, terminates
/// HBONE streams addressed to `Service VIP:port`, routes HTTP/1.1 with the Service port's HTTPRoutes, and
/// forwards over HBONE, as its own identity, to an endpoint of the chosen backend.
public struct WaypointDaemon: Sendable {
    public struct Configuration: Sendable {
        /// `namespace/name` of the workload this process serves as.
        public var workload: String
        public var certificateLifetime: Double = 86_400
        public var drainTimeout: Duration = .seconds(5)
        public var hbonePort: UInt16 = 15008
        public var hbone = HBONEConfiguration()
        public var eventLoopThreads: Int = System.coreCount
        /// How long an HTTP connection may wait for a complete request head (idle keep-alive or slow headers).
        public var headerTimeout: TimeAmount = .seconds(60)

        public init(workload: String) {
            self.workload = workload
        }
    }

    /// A configuration that cannot run a waypoint.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public let configuration: Configuration
    public let state: WaypointState
    public let ca: CertificateAuthority
    public let logger: Logger

    public init(configuration: Configuration, state: WaypointState, ca: CertificateAuthority, logger: Logger) {
        self.configuration = configuration
        self.state = state
        self.ca = ca
        self.logger = logger
    }

    /// The workload this process serves as.
    static func workload(_ key: String, in snapshot: MeshSnapshot) throws(StartError) -> Workload {
        guard let workload = snapshot.workloads.first(where: { "\($0.namespace)/\($0.name)" == key }) else {
            throw StartError(
                description: "--workload \(key): no such Pod or WorkloadEntry in the configuration; the waypoint runs as one "
                    + "of its workloads (give it as <namespace>/<name>)"
            )
        }
        guard !workload.addresses.isEmpty else {
            throw StartError(description: "--workload \(key) has no address to listen on")
        }
        return workload
    }

    public func run() async throws {
        let workload = try Self.workload(configuration.workload, in: state.snapshot)
        let identity = state.snapshot.identity(of: workload)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
        let identities = IdentityManager(ca: ca, lifetime: configuration.certificateLifetime)
        try identities.reconcile([identity])
        let verifier = PeerVerifier(roots: [ca.certificate], trustDomains: [ca.trustDomain])
        let pool = HBONEClientPool(
            configuration: configuration.hbone, identities: identities, verifier: verifier, logger: logger, sweepOn: group.next()
        )
        let upstreams = WaypointUpstreams(pool: pool, identity: identity, hbonePort: configuration.hbonePort)
        let stateBox = NIOLockedValueBox(state)
        let accessLog = Logger(label: RuntimeLogLevels.accessLabel)
        var router = WaypointRouter(
            state: { stateBox.withLockedValue { $0 } }, upstreams: upstreams, logger: logger,
            record: { record in
                accessLog.info(
                    "request complete",
                    metadata: [
                        "method": "\(record.method)", "path": "\(record.path)", "authority": "\(record.authority)",
                        "status": "\(record.status)", "response_flags": "\(record.flags)",
                        "request_id": "\(record.requestID)", "route": "\(record.route ?? "-")",
                        "upstream_cluster": "\(record.upstreamCluster ?? "-")", "upstream_host": "\(record.upstreamHost ?? "-")",
                        "bytes_received": "\(record.requestBytes)", "bytes_sent": "\(record.responseBytes)",
                        "retries": "\(record.retries)",
                        "duration": "\((ContinuousClock.now - record.started).components.seconds * 1000 + (ContinuousClock.now - record.started).components.attoseconds / 1_000_000_000_000_000)ms",
                    ]
                )
            }
        )
        router.headerTimeout = configuration.headerTimeout
        let inbound = router
        let contexts = TLSContextCache(identities: identities, keyExchange: configuration.hbone.keyExchange)
        let tracker = ConnectionTracker()
        var services: [any Service] = [CertificateRotationService(identities: identities, logger: logger)]
        for ip in workload.addresses {
            let address = try SocketAddress(ipAddress: "\(ip)", port: Int(configuration.hbonePort))
            let hbone = configuration.hbone
            let logger = self.logger
            services.append(
                ListenerService(name: "waypoint \(configuration.workload)", address: address, group: group, logger: logger, halfClosure: false) {
                    channel in
                    channel.eventLoop.makeCompletedFuture {
                        try HBONEServer.configure(
                            channel: channel, context: try contexts.serverContext(for: identity), verifier: verifier,
                            router: inbound, configuration: hbone, logger: logger
                        )
                        tracker.trackTransport(channel)
                    }
                }
            )
        }
        logger.info(
            "waypoint starting",
            metadata: [
                "workload": "\(configuration.workload)", "identity": "\(identity)",
                "services": "\(state.snapshot.services.count)",
            ]
        )
        let serviceGroup = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do {
            try await serviceGroup.run()
        } catch {
            pool.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        await tracker.drain(deadline: .now + configuration.drainTimeout)
        pool.shutdown()
        try await group.shutdownGracefully()
        logger.info("waypoint stopped")
    }
}
