// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import WeftHBONE
import WeftModel
#if canImport(Glibc)
import Glibc
#endif

/// The destination a redirected connection had before nftables sent it to a Weft listener (`SO_ORIGINAL_DST`).
enum OriginalDestination {
    static func of(_ channel: any Channel) -> EventLoopFuture<HostPort> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(OutboundConnector.Failure(reply: .generalFailure, reason: "not a socket"))
        }
        let future: EventLoopFuture<sockaddr_in> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_IP), name: SocketOptionName(80)  // SO_ORIGINAL_DST
        )
        return future.flatMapThrowing { address in
            let ip = IPAddress.v4(UInt32(bigEndian: address.sin_addr.s_addr))
            let port = UInt16(bigEndian: address.sin_port)
            guard port != 0 else {
                throw OutboundConnector.Failure(reply: .generalFailure, reason: "no original destination (connection was not redirected)")
            }
            return HostPort(ip: ip, port: port)
        }
    }
}

/// Port 15001 inside a pod: every outbound TCP connection of the pod, redirected by nftables. Reads the
/// original destination, then proceeds as the SOCKS5 entry does (plan, HBONE or passthrough, splice). On
/// failure the application's connection is reset, as ztunnel does.
final class CaptureOutboundHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let connector: OutboundConnector
    private var pending: [UInt8] = []
    private var inputClosed = false

    init(connector: OutboundConnector) {
        self.connector = connector
    }

    func channelActive(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let connector = self.connector
        let client = context.channel.remoteAddress
        let eventLoop = context.eventLoop
        OriginalDestination.of(context.channel).flatMap { destination in
            connector.open(destination: destination, client: client, on: eventLoop)
        }.whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .success(let upstream):
                guard context.channel.isActive else {
                    upstream.channel.close(promise: nil)
                    return
                }
                do {
                    try handler.connector.splice(context: context, upstream: upstream, pending: handler.pending, inputClosed: handler.inputClosed, reply: nil)
                } catch {
                    upstream.channel.close(promise: nil)
                    resetAndClose(context.channel)
                }
            case .failure:
                resetAndClose(context.channel)
            }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed? = event as? ChannelEvent {
            inputClosed = true  // replayed to the splice once it exists
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension CaptureOutboundHandler: Sendable {}

/// Port 15006 inside a pod: plaintext TCP arriving from outside the mesh. Accepted under PERMISSIVE (and
/// counted), refused with a reset under STRICT.
final class InboundPlaintextHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let workload: Workload
    private let node: NodeContext
    private let dialer: any UpstreamDialer
    private var pending: [UInt8] = []
    private var inputClosed = false

    init(workload: Workload, node: NodeContext, dialer: any UpstreamDialer) {
        self.workload = workload
        self.node = node
        self.dialer = dialer
    }

    func channelActive(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let node = self.node
        let workload = self.workload
        let dialer = self.dialer
        let client = context.channel.remoteAddress
        let eventLoop = context.eventLoop
        OriginalDestination.of(context.channel).flatMap { destination -> EventLoopFuture<(any Channel, HostPort)> in
            let snapshot = node.snapshot
            let (mode, policy) = PeerAuthentication.effectiveMode(
                for: workload, port: destination.port, policies: snapshot.peerAuthentications,
                rootNamespace: snapshot.rootNamespace
            )
            if mode == .strict {
                node.counters.plaintextRefused()
                node.logger.warning(
                    "plaintext connection refused (STRICT)",
                    metadata: [
                        "dst.workload": "\(workload.namespace)/\(workload.name)", "dst": "\(destination)",
                        "src.addr": "\(client.map { "\($0)" } ?? "-")",
                        "policy": "\(policy.map { "\($0.namespace)/\($0.name)" } ?? "-")",
                    ]
                )
                return eventLoop.makeFailedFuture(
                    OutboundConnector.Failure(reply: .notAllowed, reason: "STRICT mTLS")
                )
            }
            if InboundPolicy.forbiddenPorts.contains(destination.port) {
                return eventLoop.makeFailedFuture(
                    OutboundConnector.Failure(reply: .notAllowed, reason: "port \(destination.port) is the node's own")
                )
            }
            node.counters.plaintextAccepted()
            guard let address = try? SocketAddress(ipAddress: "\(destination.ip)", port: Int(destination.port)) else {
                return eventLoop.makeFailedFuture(OutboundConnector.Failure(reply: .generalFailure, reason: "bad address"))
            }
            let source = client?.ipAddress.flatMap { IPAddress($0) }
            return dialer.connect(to: address, from: source, on: eventLoop, timeout: .seconds(10)) { channel in
                channel.setOption(.autoRead, value: false)
            }.map { ($0, destination) }
        }.whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .success(let (upstream, destination)):
                guard context.channel.isActive else {
                    upstream.close(promise: nil)
                    return
                }
                let connector = OutboundConnector(node: node, source: workload, dialer: dialer)
                do {
                    try connector.splice(
                        context: context,
                        upstream: .init(channel: upstream, closesItself: false, route: "inbound plaintext to \(destination)"),
                        pending: handler.pending, inputClosed: handler.inputClosed, direction: "inbound_plaintext", reply: nil
                    )
                } catch {
                    upstream.close(promise: nil)
                    resetAndClose(context.channel)
                }
            case .failure:
                resetAndClose(context.channel)
            }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed? = event as? ChannelEvent {
            inputClosed = true  // replayed to the splice once it exists
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension InboundPlaintextHandler: Sendable {}

/// Closes with a TCP reset (SO_LINGER 0), so the application sees "connection reset", not a clean close.
func resetAndClose(_ channel: any Channel) {
    guard let provider = channel as? any SocketOptionProvider else {
        channel.close(promise: nil)
        return
    }
    provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
}
