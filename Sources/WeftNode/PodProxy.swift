// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import WeftHBONE
import WeftModel
import WeftRedirect

/// One enrolled pod, ztunnel's in-pod mode: enters the pod's network namespace, installs (or takes over) the
/// pod's redirect table, opens the listeners 15001 (outbound capture), 15006 (inbound plaintext) and 15008
/// (inbound HBONE) inside it, and serves them from the node's event loops.
///
/// A pod that cannot be enrolled (missing namespace, wrong IP) is logged and skipped; the node and its other
/// pods keep running. On shutdown the listeners close but the table stays: the pod fails closed (its TCP is
/// refused) until a node takes it over again.
final class PodProxy: Sendable {
    let workload: Workload
    let netns: String
    let context: NodeContext
    let contexts: TLSContextCache
    let threadPool: NIOThreadPool
    let rules: RedirectRules
    private let state = NIOLockedValueBox<(namespace: NetworkNamespace?, servers: [any Channel])>((nil, []))

    /// Why a pod could not be enrolled.
    struct EnrollmentError: Error, CustomStringConvertible {
        var description: String
    }

    init(workload: Workload, netns: String, context: NodeContext, contexts: TLSContextCache, threadPool: NIOThreadPool, rules: RedirectRules) {
        self.workload = workload
        self.netns = netns
        self.context = context
        self.contexts = contexts
        self.threadPool = threadPool
        self.rules = rules
    }

    /// Enters the pod, installs (or takes over) its table and opens its listeners. Errors are logged and thrown.
    func start() async throws {
        let pod = "\(workload.namespace)/\(workload.name)"
        do {
            let namespace = try NetworkNamespace(path: NetworkNamespace.resolve(netns))
            let servers = try await start(in: namespace)
            state.withLockedValue { $0 = (namespace, servers) }
        } catch {
            context.logger.error("pod not enrolled", metadata: ["pod": "\(pod)", "netns": "\(netns)", "error": "\(error)"])
            throw error
        }
        context.logger.info(
            "pod enrolled",
            metadata: [
                "pod": "\(pod)", "netns": "\(netns)", "ips": "\(workload.addresses.map { "\($0)" }.joined(separator: ","))",
                "identity": "\(context.snapshot.identity(of: workload))",
            ]
        )
    }

    /// Closes the listeners. With `removeTable` (the pod left the mesh) the redirect table goes too; otherwise it
    /// stays so the pod fails closed until a node takes it over.
    func stop(removeTable: Bool) async {
        let (namespace, servers) = state.withLockedValue { current in
            defer { current = (nil, []) }
            return current
        }
        for server in servers { try? await server.close() }
        if removeTable, let namespace {
            let rules = self.rules
            do {
                try namespace.run { try Nftables.run(rules.removeScript) }
                context.logger.info("pod removed from the mesh; redirect table deleted", metadata: ["pod": "\(workload.namespace)/\(workload.name)"])
            } catch {
                context.logger.error("could not delete the redirect table", metadata: ["pod": "\(workload.namespace)/\(workload.name)", "error": "\(error)"])
            }
        }
        namespace?.close()
    }

    private func start(in namespace: NetworkNamespace) async throws -> [any Channel] {
        let workload = self.workload
        // The pod's IP must live in that namespace: a wrong annotation would otherwise capture someone else.
        for ip in workload.addresses where ip.isIPv4 {
            guard case .v4(let raw) = ip else { continue }
            let present = try namespace.run { try PodSockets.hasLocalAddress(ipv4: raw) }
            guard present else {
                throw EnrollmentError(
                    description: "pod IP \(ip) is not an address of network namespace \(netns); check status.podIP and the weft.dev/netns annotation"
                )
            }
        }
        let rules = self.rules
        try namespace.run { try Nftables.run(rules.installScript) }
        // Replies to connections made with the caller's address as source must come back to the node.
        var spoof = true
        do {
            try namespace.run { try PolicyRouting.installLocalRoute(for: rules) }
        } catch {
            spoof = false
            context.logger.warning(
                "source address preservation disabled for this pod; the application will see the pod's own address",
                metadata: ["pod": "\(workload.namespace)/\(workload.name)", "error": "\(error)"]
            )
        }
        let fds = try namespace.run {
            [
                try PodSockets.listener(port: rules.outboundPort),
                try PodSockets.listener(port: rules.inboundPlaintextPort),
                try PodSockets.listener(port: rules.hbonePort),
            ]
        }
        let dialer = PodDialer(namespace: namespace, mark: rules.mark, threadPool: threadPool)
        var sourcePreserving = dialer
        sourcePreserving.spoofSource = spoof
        let appDialer = sourcePreserving
        let node = context
        let plaintext = InboundPlaintext(workload: workload, node: node, dialer: appDialer)
        let inboundConnector = OutboundConnector(node: node, source: workload, dialer: appDialer)
        let connector = OutboundConnector(node: node, source: workload, dialer: dialer)
        let identity = node.snapshot.identity(of: workload)
        let contexts = self.contexts
        let router = InboundRouter(context: node, dialer: appDialer, preserveSource: spoof)
        let logger = node.logger
        var servers: [any Channel] = []
        do {
            servers.append(
                try await bootstrap(autoRead: false) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            CaptureHandler(connector: connector) { destination, client, loop in
                                connector.open(destination: destination, client: client, on: loop)
                            }
                        )
                        node.tracker.track(channel)
                    }
                }.withBoundSocket(fds[0]).get()
            )
            servers.append(
                try await bootstrap(autoRead: false) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            CaptureHandler(connector: inboundConnector) {
                                destination, client, loop in
                                plaintext.open(destination: destination, client: client, on: loop)
                            }
                        )
                        node.tracker.track(channel)
                    }
                }.withBoundSocket(fds[1]).get()
            )
            servers.append(
                try await bootstrap(autoRead: true, halfClosure: false) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try HBONEServer.configure(
                            channel: channel, context: try contexts.serverContext(for: identity),
                            verifier: node.verifier, router: router, configuration: node.hboneConfiguration, logger: logger
                        )
                        node.tracker.trackTransport(channel)
                    }
                }.withBoundSocket(fds[2]).get()
            )
        } catch {
            for server in servers { server.close(promise: nil) }
            throw error
        }
        return servers
    }

    private func bootstrap(
        autoRead: Bool,
        halfClosure: Bool = true,
        _ initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> ServerBootstrap {
        ServerBootstrap(group: context.group)
            .childChannelOption(.allowRemoteHalfClosure, value: halfClosure)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.autoRead, value: autoRead)
            .childChannelInitializer(initializer)
    }
}
