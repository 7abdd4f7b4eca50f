// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import WeftHBONE
import WeftModel

/// Carries out an ``OutboundPlan`` for a connection from a local workload: opens the HBONE stream (or the
/// passthrough socket), then splices it with the workload's socket. Shared by the SOCKS5 entry and in-pod
/// capture (port 15001).
struct OutboundConnector: Sendable {
    let node: NodeContext
    let source: Workload
    let dialer: any UpstreamDialer

    /// An upstream ready to carry bytes.
    struct Upstream {
        var channel: any Channel
        var closesItself: Bool
        var route: String
    }

    /// Why an outbound connection failed, with the SOCKS5 reply it maps to.
    struct Failure: Error, CustomStringConvertible {
        var reply: SOCKS5Parser.ReplyCode
        var reason: String
        var description: String { reason }
    }

    /// Plans and opens the upstream for `destination`; `client` is the workload's own address (for `forwarded`).
    func open(destination: HostPort, client: SocketAddress?, on eventLoop: any EventLoop) -> EventLoopFuture<Upstream> {
        let snapshot = node.snapshot
        let plan = node.planner.plan(destination: destination, snapshot: snapshot)
        let sourceIP = client?.ipAddress.flatMap { IPAddress($0) }
        switch plan {
        case .reject(let reason):
            node.logger.warning(
                "outbound connection refused",
                metadata: ["src.workload": "\(source.namespace)/\(source.name)", "dst": "\(destination)", "reason": "\(reason)"]
            )
            return eventLoop.makeFailedFuture(Failure(reply: .hostUnreachable, reason: reason))
        case .passthrough(let target):
            guard let address = try? SocketAddress(ipAddress: "\(target.ip)", port: Int(target.port)) else {
                return eventLoop.makeFailedFuture(Failure(reply: .addressTypeNotSupported, reason: "bad address \(target)"))
            }
            let logger = node.logger
            return dialer.connect(to: address, from: nil, on: eventLoop, timeout: .seconds(10)) { channel in
                channel.setOption(.autoRead, value: false)
            }.map { Upstream(channel: $0, closesItself: false, route: "passthrough \(target)") }
                .flatMapErrorThrowing { error in
                    logger.info("passthrough connect failed", metadata: ["dst": "\(target)", "error": "\(error)"])
                    throw Failure(reply: .connectionRefused, reason: "\(error)")
                }
        case .hbone(let target):
            let sourceIdentity = snapshot.identity(of: source)
            let request = HBONERequest(
                authority: target.authority,
                forwardedFor: client.flatMap { addr in
                    addr.ipAddress.flatMap { IPAddress($0) }.map { HostPort(ip: $0, port: UInt16(addr.port ?? 0)) }
                },
                serviceHost: target.service?.hostname,
                baggage: HBONEHeaders.baggage(
                    namespace: source.namespace, workloadKind: source.kind == .pod ? "pod" : "workloadentry",
                    workload: source.name, service: source.labels["app"], version: source.labels["version"]
                ),
                traceparent: HBONEHeaders.traceparent()
            )
            let key = HBONEClientPool.Key(
                source: sourceIdentity, destination: target.destinationIdentity, address: target.nextHop,
                sourceIP: sourceIP
            )
            let logger = node.logger
            return node.pool.openStream(key: key, request: request, on: eventLoop, dialer: dialer).map {
                Upstream(
                    channel: $0, closesItself: true,
                    route: "hbone \(target.destinationIdentity) via \(target.nextHop) authority \(target.authority)"
                )
            }.flatMapErrorThrowing { error in
                logger.warning(
                    "outbound hbone failed",
                    metadata: [
                        "src.identity": "\(sourceIdentity)", "dst": "\(target.authority)",
                        "dst.identity": "\(target.destinationIdentity)", "error": "\(error)",
                    ]
                )
                let code: SOCKS5Parser.ReplyCode =
                    switch (error as? HBONEClientError)?.status {
                    case 401, 403: .notAllowed
                    case 503: .connectionRefused
                    default: .hostUnreachable
                    }
                throw Failure(reply: code, reason: "\(error)")
            }
        }
    }

    /// Splices the workload's channel (`downstream`, handled by `context`) with `upstream`, forwarding `pending`
    /// bytes first. Must run on the downstream's event loop, which is the upstream's too.
    /// `inputClosed`: the workload already half-closed before the splice (its EOF was read by the handler).
    func splice(
        context: ChannelHandlerContext,
        upstream: Upstream,
        pending: [UInt8],
        inputClosed: Bool = false,
        direction: String = "outbound",
        reply: ByteBuffer?
    ) throws {
        node.tracker.track(upstream.channel)
        let logger = node.logger
        let source = self.source
        let started = NIODeadline.now()
        let route = upstream.route
        let (downstreamSide, upstreamSide) = GlueHandler.matchedPair(secondClosesItself: upstream.closesItself) { totals in
            logger.info(
                "connection complete",
                metadata: [
                    "direction": "\(direction)", "src.workload": "\(source.namespace)/\(source.name)", "route": "\(route)",
                    "bytes_sent": "\(totals.firstToSecond)", "bytes_recv": "\(totals.secondToFirst)",
                    "clean": "\(totals.clean)",
                    "duration": "\((NIODeadline.now() - started).nanoseconds / 1_000_000)ms",
                ]
            )
        }
        try upstream.channel.pipeline.syncOperations.addHandler(upstreamSide)
        if let reply { context.writeAndFlush(NIOAny(reply), promise: nil) }
        try context.pipeline.syncOperations.addHandler(downstreamSide, position: .after(context.handler))
        if !pending.isEmpty {
            downstreamSide.countPrefetched(pending.count)
            upstream.channel.writeAndFlush(ByteBuffer(bytes: pending), promise: nil)
        }
        if inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        _ = context.channel.setOption(.autoRead, value: true)
        _ = upstream.channel.setOption(.autoRead, value: true)
    }
}
