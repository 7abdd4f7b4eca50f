// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif
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
        // One socket per port and event loop (SO_REUSEPORT), each keeping what it accepts on its own loop, as the
        // host's listeners do (see ListenerService).
        let loops = Array(context.group.makeIterator())
        let ports = [rules.outboundPort, rules.inboundPlaintextPort, rules.hbonePort]
        var created: [Int32] = []
        do {
            try namespace.run {
                for port in ports {
                    for _ in loops { created.append(try PodSockets.listener(port: port)) }
                }
            }
        } catch {
            for fd in created { close(fd) }
            throw error
        }
        let sockets = created
        let fds = ports.indices.map { row in Array(sockets[(row * loops.count)..<((row + 1) * loops.count)]) }
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
        // A capture listener: each accepted connection learns its original destination and is opened by `open`.
        let capture: @Sendable (OutboundConnector, @escaping CaptureHandler.Opener) -> @Sendable (any Channel) -> EventLoopFuture<Void> = {
            connector, open in
            { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CaptureHandler(connector: connector, open: open))
                    node.tracker.track(channel)
                }
            }
        }
        let outbound = capture(connector) { destination, client, loop in
            connector.open(destination: destination, client: client, on: loop)
        }
        let inboundPlaintext = capture(inboundConnector) { destination, client, loop in
            plaintext.open(destination: destination, client: client, on: loop)
        }
        let hbone: @Sendable (any Channel) -> EventLoopFuture<Void> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try HBONEServer.configure(
                    channel: channel, context: try contexts.serverContext(for: identity),
                    verifier: node.verifier, router: router, configuration: node.hboneConfiguration, logger: logger
                )
                node.tracker.trackTransport(channel)
            }
        }
        var servers: [any Channel] = []
        var wrapped = 0  // descriptors handed to NIO so far (it owns them from then on)
        do {
            for (index, loop) in loops.enumerated() {
                wrapped += 1
                servers.append(try await bootstrap(on: loop, autoRead: false, outbound).withBoundSocket(fds[0][index]).get())
                wrapped += 1
                servers.append(
                    try await bootstrap(on: loop, autoRead: false, inboundPlaintext).withBoundSocket(fds[1][index]).get()
                )
                wrapped += 1
                servers.append(
                    try await bootstrap(on: loop, autoRead: true, halfClosure: false, hbone).withBoundSocket(fds[2][index]).get()
                )
            }
        } catch {
            for server in servers { server.close(promise: nil) }
            let unwrapped = loops.indices.flatMap { index in fds.indices.map { fds[$0][index] } }.dropFirst(wrapped)
            for fd in unwrapped { close(fd) }
            throw error
        }
        return servers
    }

    private func bootstrap(
        on loop: any EventLoop,
        autoRead: Bool,
        halfClosure: Bool = true,
        _ initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> ServerBootstrap {
        ServerBootstrap(group: loop)
            .childChannelOption(.allowRemoteHalfClosure, value: halfClosure)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.autoRead, value: autoRead)
            .childChannelInitializer(initializer)
    }
}
