// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import WeftHBONE
import WeftModel
import WeftTelemetry

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
        /// The connection's metrics and access-log record, completed with bytes and duration at the end.
        var report: ConnectionReport
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
        let plan = node.planner.plan(destination: destination, snapshot: snapshot, from: source)
        let sourceIP = client?.ipAddress.flatMap { IPAddress($0) }
        let sourceIdentity = snapshot.identity(of: source)
        let telemetry = node.telemetry
        let started = ContinuousClock.now
        switch plan {
        case .reject(let reason):
            node.logger.warning(
                "outbound connection refused",
                metadata: ["src.workload": "\(source.namespace)/\(source.name)", "dst": "\(destination)", "reason": "\(reason)"]
            )
            var report = TrafficReports.outbound(
                from: source, identity: sourceIdentity, client: client, toAddress: destination, snapshot: snapshot,
                cluster: telemetry.cluster
            )
            report.responseFlag = .noRoute
            report.error = reason
            telemetry.failed(report, reason: "no_route")
            return eventLoop.makeFailedFuture(Failure(reply: .hostUnreachable, reason: reason))
        case .passthrough(let target):
            let report = TrafficReports.outbound(
                from: source, identity: sourceIdentity, client: client, toAddress: target, snapshot: snapshot,
                cluster: telemetry.cluster
            )
            guard let address = try? SocketAddress(ipAddress: "\(target.ip)", port: Int(target.port)) else {
                return eventLoop.makeFailedFuture(Failure(reply: .addressTypeNotSupported, reason: "bad address \(target)"))
            }
            let logger = node.logger
            return dialer.connect(to: address, from: nil, on: eventLoop, timeout: .seconds(10)) { channel in
                channel.setOption(.autoRead, value: false)
            }.map { Upstream(channel: $0, closesItself: false, report: report) }
                .flatMapErrorThrowing { error in
                    logger.info("passthrough connect failed", metadata: ["dst": "\(target)", "error": "\(error)"])
                    var report = report
                    report.responseFlag = .connect
                    report.error = "\(error)"
                    report.duration = .now - started
                    telemetry.failed(report, reason: "upstream_connect")
                    throw Failure(reply: .connectionRefused, reason: "\(error)")
                }
        case .hbone(let target):
            let report = TrafficReports.outbound(
                from: source, identity: sourceIdentity, client: client, to: target, cluster: telemetry.cluster
            )
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
                Upstream(channel: $0, closesItself: true, report: report)
            }.flatMapErrorThrowing { error in
                logger.warning(
                    "outbound hbone failed",
                    metadata: [
                        "src.identity": "\(sourceIdentity)", "dst": "\(target.authority)",
                        "dst.identity": "\(target.destinationIdentity)", "error": "\(error)",
                    ]
                )
                let status = (error as? HBONEClientError)?.status
                let code: SOCKS5Parser.ReplyCode =
                    switch status {
                    case 401, 403: .notAllowed
                    case 503: .connectionRefused
                    default: .hostUnreachable
                    }
                var report = report
                report.responseFlag = status == 401 || status == 403 ? .deny : .connect
                report.error = "\(error)"
                report.duration = .now - started
                telemetry.failed(report, reason: status == 401 || status == 403 ? "denied_by_peer" : "hbone_connect")
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
        reply: ByteBuffer?
    ) throws {
        node.tracker.track(upstream.channel)
        let telemetry = node.telemetry
        let started = ContinuousClock.now
        var report = upstream.report
        telemetry.opened(report)
        // The downstream is the connection's client in both directions this carries (a local workload going out,
        // or a plaintext caller coming in): what it sends is the request.
        let (downstreamSide, upstreamSide) = GlueHandler.matchedPair(secondClosesItself: upstream.closesItself) { totals in
            report.requestBytes = totals.firstToSecond
            report.responseBytes = totals.secondToFirst
            report.duration = .now - started
            if !totals.clean { report.error = "connection reset before both directions finished" }
            telemetry.closed(report)
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
