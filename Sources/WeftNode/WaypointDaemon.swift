// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Prometheus
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
        /// Prometheus metrics (`/metrics`); `nil`: off.
        public var metricsAddress: HostPort? = HostPort(ip: .v4(0), port: 15020)
        /// Readiness (`/healthz/ready`); `nil`: off.
        public var readinessAddress: HostPort? = HostPort(ip: .v4(0), port: 15021)
        /// The manifests, reloaded when they change or on SIGHUP (empty: no reload).
        public var manifestPaths: [String] = []
        /// How often the manifests are checked for changes.
        public var reloadInterval: Duration = .seconds(1)

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

    /// The request-metrics sample of a finished request: the caller from its mTLS identity (and address), the
    /// destination from the endpoint that answered.
    static func sample(_ record: RequestRecord, snapshot: MeshSnapshot, milliseconds: Double) -> RequestMetrics.Sample {
        let cluster = "Kubernetes"
        let source =
            record.peerIdentity.map {
                TrafficReports.caller(identity: $0, ip: record.peerIP, address: nil, snapshot: snapshot, cluster: cluster)
            } ?? TrafficPeer()
        var destination = TrafficPeer()
        if let ip = record.upstreamIP, let workload = snapshot.workloadsByIP[ip] {
            destination = .workload(workload, identity: snapshot.identity(of: workload), cluster: cluster, address: nil)
        }
        return RequestMetrics.Sample(
            source: source, destination: destination, service: record.backendService.map(TrafficReports.service),
            responseCode: record.status, responseFlags: record.flags, durationMilliseconds: milliseconds,
            requestBytes: record.requestBytes, responseBytes: record.responseBytes
        )
    }

    /// The waypoint (Gateway) a workload implements: its `gateway.networking.k8s.io/gateway-name` label, in its
    /// namespace.
    public static func waypoint(of workloadKey: String, in snapshot: MeshSnapshot) -> Waypoint? {
        guard let workload = snapshot.workloads.first(where: { "\($0.namespace)/\($0.name)" == workloadKey }),
            let name = workload.labels[Waypoint.Labels.gatewayName]
        else { return nil }
        return snapshot.waypoint(namespace: workload.namespace, name: name)
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

    /// Runs until SIGTERM/SIGINT; `additionalServices` (e.g. the OTLP exporter) run alongside and stop last.
    public func run(additionalServices: [any Service] = []) async throws {
        let workload = try Self.workload(configuration.workload, in: state.snapshot)
        let identity = state.snapshot.identity(of: workload)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
        let identities = IdentityManager(ca: ca, lifetime: configuration.certificateLifetime)
        try identities.reconcile([identity])
        let verifier = PeerVerifier(roots: [ca.certificate], trustDomains: [ca.trustDomain])
        let pool = HBONEClientPool(
            configuration: configuration.hbone, identities: identities, verifier: verifier, logger: logger, sweepOn: group.next()
        )
        let upstreams = WaypointUpstreams(pool: pool, identity: identity, hbonePort: configuration.hbonePort, logger: logger)
        let stateBox = NIOLockedValueBox(state)
        let accessLog = Logger(label: RuntimeLogLevels.accessLabel)
        let registry = PrometheusCollectorRegistry()
        let requestMetrics = RequestMetrics(registry: registry)
        let readiness = Readiness()
        readiness.configurationLoaded()
        readiness.certificatesIssued()
        readiness.podsReconciled()
        var router = WaypointRouter(
            state: { stateBox.withLockedValue { $0 } }, upstreams: upstreams, logger: logger,
            record: { record in
                let elapsed = ContinuousClock.now - record.started
                let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                let snapshot = stateBox.withLockedValue { $0.snapshot }
                requestMetrics.record(Self.sample(record, snapshot: snapshot, milliseconds: milliseconds))
                accessLog.info("request complete", metadata: record.accessLogMetadata(milliseconds: milliseconds))
            }
        )
        router.headerTimeout = configuration.headerTimeout
        let inbound = router
        let contexts = TLSContextCache(identities: identities, keyExchange: configuration.hbone.keyExchange)
        let tracker = ConnectionTracker()
        var services: [any Service] = additionalServices
        let endpoints: [(String, HostPort?, HTTPEndpointHandler.Responder)] = [
            ("readiness", configuration.readinessAddress, { AdminEndpoints.readiness($0, readiness) }),
            (
                "metrics", configuration.metricsAddress,
                {
                    AdminEndpoints.metrics($0) {
                        registry.emitToBuffer() + Array(ClusterStatistics.exposition(upstreams.statistics()).utf8)
                    }
                }
            ),
        ]
        services += endpoints.compactMap { name, address, responder in
            address.map { HTTPEndpointHandler.listener(name: name, address: $0, group: group, logger: logger, respond: responder) }
        }
        services.append(CertificateRotationService(identities: identities, logger: logger))
        if !configuration.manifestPaths.isEmpty {
            services.append(
                WaypointConfigWatcher(
                    paths: configuration.manifestPaths, workload: configuration.workload, trustDomain: ca.trustDomain,
                    rootNamespace: state.snapshot.rootNamespace, interval: configuration.reloadInterval, logger: logger
                ) { newState in
                    stateBox.withLockedValue { $0 = newState }
                }
            )
        }
        for ip in workload.addresses {
            let address = try SocketAddress(ipAddress: "\(ip)", port: Int(configuration.hbonePort))
            let hbone = configuration.hbone
            let logger = self.logger
            services.append(
                ListenerService(
                    name: "waypoint \(configuration.workload)", address: address, group: group, logger: logger,
                    halfClosure: false, bound: readiness.listener("hbone \(address)")
                ) { channel in
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
