// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals
import WeftHBONE
import WeftIdentity
import WeftModel
import WeftRedirect

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
            logger: logger
        )
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
        if local.isEmpty {
            logger.warning("no workload in the configuration runs on this node", metadata: ["node": "\(configuration.node)"])
        }
        let contexts = TLSContextCache(identities: identities)
        var services: [any Service] = [
            DrainService(context: context, deadline: configuration.drainTimeout),
            CertificateRotationService(identities: identities, logger: logger),
        ]
        let threadPool = NIOThreadPool(numberOfThreads: 4)
        threadPool.start()
        let pods = PodManager(context: context, contexts: contexts, threadPool: threadPool)
        await pods.reconcile(snapshot)
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
        return ListenerService(
            name: "hbone \(workload.namespace)/\(workload.name)",
            address: address,
            group: context.group,
            logger: logger,
            halfClosure: false
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
                context.tracker.track(channel)
            }
        }
    }

    private func socksListener(for workload: Workload, ip: IPAddress, context: NodeContext) -> ListenerService {
        let address = try! SocketAddress(ipAddress: "\(ip)", port: Int(configuration.socksPort))
        return ListenerService(
            name: "socks5 \(workload.namespace)/\(workload.name)",
            address: address,
            group: context.group,
            logger: logger
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
            logger: logger
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                // Nothing is read until the tunnel is open; the application's first bytes wait in its socket.
                try channel.syncOptions?.setOption(.autoRead, value: false)
                let handler = CaptureHandler(
                    connector: connector,
                    direction: "outbound",
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
        let open = context.tracker.count
        context.logger.info("draining", metadata: ["sockets": "\(open)", "deadline": "\(deadline)"])
        let forced = await context.tracker.drain(deadline: .now + deadline)
        context.pool.shutdown()
        if forced > 0 {
            context.logger.warning("drain deadline reached; sockets closed", metadata: ["sockets": "\(forced)"])
        }
    }
}
