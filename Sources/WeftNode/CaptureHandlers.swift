// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import WeftHBONE
import WeftModel
import WeftPolicy
import WeftTelemetry
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

/// What a workload sent before its connection was spliced: bytes, and whether it already half-closed. Replayed
/// into the splice by ``OutboundConnector/splice(context:upstream:pending:inputClosed:reply:)``.
struct PendingInput {
    var bytes: [UInt8] = []
    var inputClosed = false

    mutating func append(_ buffer: ByteBuffer) {
        var buffer = buffer
        bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Records `inputClosed`; returns whether the event was consumed.
    mutating func observe(_ event: Any) -> Bool {
        guard case ChannelEvent.inputClosed? = event as? ChannelEvent else { return false }
        inputClosed = true
        return true
    }
}

/// A redirected connection inside a pod (or one accepted by an upstream listener): finds its destination, asks
/// `open` for an upstream, then splices (or resets the application's connection on failure, as ztunnel does).
///
/// Port 15001 (outbound capture) opens through ``OutboundConnector/open(destination:client:on:)``; port 15006
/// (inbound plaintext) through ``InboundPlaintext/open(destination:client:on:)``. Both read the destination with
/// `SO_ORIGINAL_DST`; an upstream listener has a fixed one.
final class CaptureHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias Opener = @Sendable (HostPort, SocketAddress?, any EventLoop) -> EventLoopFuture<OutboundConnector.Upstream>
    typealias Resolver = @Sendable (any Channel) -> EventLoopFuture<HostPort>

    private let connector: OutboundConnector
    private let destination: Resolver
    private let open: Opener
    private var pending = PendingInput()

    init(
        connector: OutboundConnector,
        destination: @escaping Resolver = { OriginalDestination.of($0) },
        open: @escaping Opener
    ) {
        self.connector = connector
        self.destination = destination
        self.open = open
    }

    func channelActive(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let open = self.open
        let client = context.channel.remoteAddress
        let eventLoop = context.eventLoop
        destination(context.channel).flatMap { destination in
            open(destination, client, eventLoop)
        }.whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .success(let upstream):
                guard context.channel.isActive else {
                    upstream.channel.close(promise: nil)
                    return
                }
                do {
                    try handler.connector.splice(
                        context: context, upstream: upstream, pending: handler.pending.bytes,
                        inputClosed: handler.pending.inputClosed, reply: nil
                    )
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
        pending.append(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !pending.observe(event) { context.fireUserInboundEventTriggered(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension CaptureHandler: Sendable {}

/// Port 15006 inside a pod: plaintext TCP arriving from outside the mesh. Accepted under PERMISSIVE (and
/// counted, source address preserved), refused with a reset under STRICT.
struct InboundPlaintext: Sendable {
    let workload: Workload
    let node: NodeContext
    let dialer: any UpstreamDialer

    func open(destination: HostPort, client: SocketAddress?, on eventLoop: any EventLoop) -> EventLoopFuture<OutboundConnector.Upstream> {
        let snapshot = node.snapshot
        let telemetry = node.telemetry
        var report = TrafficReports.inboundPlaintext(
            to: workload, destination: destination, client: client, snapshot: snapshot, cluster: telemetry.cluster
        )
        func refuse(_ reply: SOCKS5Parser.ReplyCode, _ reason: String, flag: ConnectionReport.ResponseFlag?, counted: String)
            -> EventLoopFuture<OutboundConnector.Upstream>
        {
            report.responseFlag = flag
            report.error = reason
            telemetry.failed(report, reason: counted)
            return eventLoop.makeFailedFuture(OutboundConnector.Failure(reply: reply, reason: reason))
        }
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
            return refuse(.notAllowed, "STRICT mTLS", flag: .deny, counted: "plaintext_strict")
        }
        if InboundPolicy.forbiddenPorts.contains(destination.port) {
            return refuse(.notAllowed, "port \(destination.port) is the node's own", flag: .deny, counted: "reserved_port")
        }
        guard let address = try? SocketAddress(ipAddress: "\(destination.ip)", port: Int(destination.port)),
            let source = client?.ipAddress.flatMap({ IPAddress($0) })
        else {
            return refuse(.generalFailure, "bad address", flag: nil, counted: "bad_request")
        }
        // AuthorizationPolicy applies to plaintext too, with no identity (principal and namespace rules cannot match).
        let facts = ConnectionFacts(
            sourceIP: source, sourceIdentity: nil, destinationIP: destination.ip, destinationPort: destination.port,
            destination: workload
        )
        let decision = node.authorize(facts)
        guard decision.isAllowed else {
            return refuse(.notAllowed, "\(decision)", flag: .deny, counted: "policy_denied")
        }
        node.counters.plaintextAccepted()
        let authorized = node.authorized
        let started = ContinuousClock.now
        let accepted = report
        return dialer.connect(to: address, from: source, on: eventLoop, timeout: .seconds(10)) { channel in
            channel.setOption(.autoRead, value: false)
        }.map { channel in
            authorized.add(facts, workload: workload, channel: channel)
            return OutboundConnector.Upstream(channel: channel, closesItself: false, report: accepted)
        }.flatMapErrorThrowing { error in
            var report = accepted
            report.responseFlag = .connect
            report.error = "\(error)"
            report.duration = .now - started
            telemetry.failed(report, reason: "upstream_connect")
            throw error
        }
    }
}

/// Closes with a TCP reset (SO_LINGER 0), so the application sees "connection reset", not a clean close.
func resetAndClose(_ channel: any Channel) {
    guard let provider = channel as? any SocketOptionProvider else {
        channel.close(promise: nil)
        return
    }
    provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
}
