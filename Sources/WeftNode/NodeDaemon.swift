// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import UnixSignals
import WeftHBONE
import WeftIdentity
import WeftModel
import WeftRedirect
import WeftTelemetry

/// `weft node`: serves the workloads of one node. For each local workload it listens on
/// `<workload IP>:15008` (inbound HBONE, presenting the workload's certificate) and `<workload IP>:15080`
/// (SOCKS5: outbound connections from that workload, which carry its identity).
public struct NodeDaemon: Sendable {
    /// Options of `weft node`.
    public struct Configuration: Sendable {
        public var node: String
        public var certificateLifetime: Double = 86_400
        public var drainTimeout: Duration = .seconds(5)
        public var hbonePort: UInt16 = 15008
        public var socksPort: UInt16 = 15080
        public var hbone = HBONEConfiguration()
        public var eventLoopThreads: Int = System.coreCount
        /// Manifest paths to watch for changes (empty: the configuration is fixed).
        public var configPaths: [String] = []
        /// Explicit upstream listeners (`--upstream`).
        public var upstreams: [UpstreamSpec] = []
        /// Admin endpoint (`/config_dump`, `/logging`); loopback only. `nil`: off.
        public var adminAddress: HostPort? = HostPort(ip: .v4(0x7F00_0001), port: 15000)
        /// Prometheus metrics (`/metrics`). `nil`: off.
        public var metricsAddress: HostPort? = HostPort(ip: .v4(0), port: 15020)
        /// Readiness (`/healthz/ready`). `nil`: off.
        public var readinessAddress: HostPort? = HostPort(ip: .v4(0), port: 15021)
        /// The labels of the TCP metrics.
        public var trafficLabels: TrafficLabelSet = .standard
        /// Log levels that `/logging` can change (set up by the executable with its log handler).
        public var logLevels: RuntimeLogLevels?
        /// Reported in `istio_build` and `/config_dump`.
        public var version: String = "dev"

        public init(node: String) {
            self.node = node
        }
    }

    public let configuration: Configuration
    public let snapshot: MeshSnapshot
    public let ca: CertificateAuthority
    public let logger: Logger

    public init(configuration: Configuration, snapshot: MeshSnapshot, ca: CertificateAuthority, logger: Logger) {
        self.configuration = configuration
        self.snapshot = snapshot
        self.ca = ca
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT, then stops accepting, lets connections finish up to the drain timeout, and
    /// closes the rest.
    public func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
        let identities = IdentityManager(ca: ca, lifetime: configuration.certificateLifetime)
        let context = NodeContext(
            node: configuration.node,
            snapshot: snapshot,
            identities: identities,
            hboneConfiguration: configuration.hbone,
            group: group,
            logger: logger,
            telemetry: NodeTelemetry(labelSet: configuration.trafficLabels, version: configuration.version),
            configSources: configuration.configPaths
        )
        context.readiness.configurationLoaded()
        let local = context.localWorkloads
        // Upstream listeners are checked before anything is issued, enrolled or bound.
        var upstreams: [ListenerService] = []
        for spec in configuration.upstreams {
            switch spec.sourceWorkload(among: local) {
            case .success(let workload):
                upstreams.append(upstreamListener(spec, source: workload, context: context))
            case .failure(let error):
                try? await group.shutdownGracefully()
                throw error
            }
        }
        // Certificates are issued before any listener opens, so the first connection never waits for one.
        try identities.reconcile(Set(local.map { snapshot.identity(of: $0) }))
        for (identity, entry) in identities.entries.sorted(by: { $0.key < $1.key }) {
            logger.info(
                "certificate issued",
                metadata: [
                    "identity": "\(identity)", "serial": "\(entry.certificate.serial)",
                    "not_after": "\(entry.certificate.notAfter)",
                ]
            )
        }
        context.readiness.certificatesIssued()
        if local.isEmpty {
            logger.warning("no workload in the configuration runs on this node", metadata: ["node": "\(configuration.node)"])
        }
        let contexts = TLSContextCache(identities: identities, keyExchange: configuration.hbone.keyExchange)
        let threadPool = NIOThreadPool(numberOfThreads: 4)
        threadPool.start()
        let pods = PodManager(context: context, contexts: contexts, threadPool: threadPool)
        // Shut down in reverse order: data listeners first, then the drain; the HTTP endpoints last, so
        // readiness answers 503 and metrics stay scrapable while connections drain.
        let endpoints = AdminEndpoints(context: context, pods: pods, logLevels: configuration.logLevels, version: configuration.version)
        var services: [any Service] = httpEndpoints(endpoints, context: context)
        services += [
            DrainService(context: context, deadline: configuration.drainTimeout),
            CertificateRotationService(identities: identities, logger: logger),
        ]
        await pods.reconcile(snapshot)
        context.readiness.podsReconciled()
        services.append(pods)
        if !configuration.configPaths.isEmpty {
            services.append(ConfigWatcher(paths: configuration.configPaths, context: context, pods: pods, interval: .seconds(1)))
        }
        for workload in local where Enrollment.netns(of: workload) == nil {
            // Loopback mode: the workload's addresses are on this host; HBONE and a SOCKS5 entry per address.
            for ip in workload.addresses {
                services.append(hboneListener(for: workload, ip: ip, context: context, contexts: contexts))
                services.append(socksListener(for: workload, ip: ip, context: context))
            }
        }
        services += upstreams as [any Service]
        logger.info(
            "node starting",
            metadata: [
                "node": "\(configuration.node)", "workloads": "\(local.count)",
                "trust_domain": "\(snapshot.trustDomain)",
            ]
        )
        let serviceGroup = ServiceGroup(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        do {
            try await serviceGroup.run()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
        try? await threadPool.shutdownGracefully()
        let counts = context.counters.snapshot
        logger.info(
            "node stopped",
            metadata: [
                "inbound_mtls": "\(counts.mtls)", "inbound_plaintext_accepted": "\(counts.plaintextAccepted)",
                "inbound_plaintext_refused": "\(counts.plaintextRefused)",
            ]
        )
    }

    /// The admin, metrics and readiness servers that are not switched off.
    private func httpEndpoints(_ endpoints: AdminEndpoints, context: NodeContext) -> [any Service] {
        let servers: [(String, HostPort?, HTTPEndpointHandler.Responder)] = [
            ("readiness", configuration.readinessAddress, { await endpoints.readiness($0) }),
            ("metrics", configuration.metricsAddress, { await endpoints.metrics($0) }),
            ("admin", configuration.adminAddress, { await endpoints.admin($0) }),
        ]
        return servers.compactMap { name, address, responder in
            address.map { HTTPEndpointHandler.listener(name: name, address: $0, group: context.group, logger: logger, respond: responder) }
        }
    }

    private func hboneListener(
        for workload: Workload,
        ip: IPAddress,
        context: NodeContext,
        contexts: TLSContextCache
    ) -> ListenerService {
        let identity = snapshot.identity(of: workload)
        let router = InboundRouter(context: context)
        let address = try! SocketAddress(ipAddress: "\(ip)", port: Int(configuration.hbonePort))
        let logger = self.logger
        let name = "hbone \(workload.namespace)/\(workload.name)"
        return ListenerService(
            name: name,
            address: address,
            group: context.group,
            logger: logger,
            halfClosure: false,
            bound: context.readiness.listener("\(name) \(ip)")
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                let tls = try contexts.serverContext(for: identity)
                try HBONEServer.configure(
                    channel: channel,
                    context: tls,
                    verifier: context.verifier,
                    router: router,
                    configuration: context.hboneConfiguration,
                    logger: logger
                )
                context.tracker.trackTransport(channel)
            }
        }
    }

    private func socksListener(for workload: Workload, ip: IPAddress, context: NodeContext) -> ListenerService {
        let address = try! SocketAddress(ipAddress: "\(ip)", port: Int(configuration.socksPort))
        let name = "socks5 \(workload.namespace)/\(workload.name)"
        return ListenerService(
            name: name,
            address: address,
            group: context.group,
            logger: logger,
            bound: context.readiness.listener("\(name) \(ip)")
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(SOCKS5Handler(source: workload, node: context))
                context.tracker.track(channel)
            }
        }
    }
}

extension NodeDaemon {
    /// An upstream listener: plaintext from local applications, carried through the mesh as `source`.
    private func upstreamListener(_ spec: UpstreamSpec, source: Workload, context: NodeContext) -> ListenerService {
        let address = try! SocketAddress(ipAddress: "\(spec.listen.ip)", port: Int(spec.listen.port))
        let connector = OutboundConnector(node: context, source: source, dialer: DirectDialer())
        // The tunnel is opened from the workload's own address (as a captured connection would be).
        let client = source.addresses.first.flatMap { try? SocketAddress(ipAddress: "\($0)", port: 0) }
        return ListenerService(
            name: "upstream \(spec)",
            address: address,
            group: context.group,
            logger: logger,
            bound: context.readiness.listener("upstream \(spec)")
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                // Nothing is read until the tunnel is open; the application's first bytes wait in its socket.
                try channel.syncOptions?.setOption(.autoRead, value: false)
                let handler = CaptureHandler(
                    connector: connector,
                    destination: { channel in
                        switch spec.resolve(in: context.snapshot) {
                        case .success(let destination): return channel.eventLoop.makeSucceededFuture(destination)
                        case .failure(let error):
                            context.logger.warning("upstream connection refused", metadata: ["error": "\(error)"])
                            return channel.eventLoop.makeFailedFuture(error)
                        }
                    },
                    open: { destination, _, loop in connector.open(destination: destination, client: client, on: loop) }
                )
                try channel.pipeline.syncOperations.addHandler(handler)
                context.tracker.track(channel)
            }
        }
    }
}

/// Runs first and stops last: once the listeners have stopped accepting, waits for live connections to finish
/// (up to the deadline), then closes what is left and the HBONE pool.
struct DrainService: Service {
    let context: NodeContext
    let deadline: Duration

    func run() async throws {
        try? await gracefulShutdown()
        context.readiness.draining()
        let open = context.tracker.count
        context.logger.info("draining", metadata: ["sockets": "\(open)", "deadline": "\(deadline)"])
        let forced = await context.tracker.drain(deadline: .now + deadline)
        context.pool.shutdown()
        if forced > 0 {
            context.logger.warning("drain deadline reached; sockets closed", metadata: ["sockets": "\(forced)"])
        }
    }
}
