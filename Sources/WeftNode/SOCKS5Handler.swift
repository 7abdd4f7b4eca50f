// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import NIOPosix
import WeftHBONE
import WeftModel

/// Accepts a SOCKS5 CONNECT from a local workload, plans the connection, opens the tunnel (or passthrough),
/// answers the client, then splices and removes itself. Sits alone on the accepted socket until the splice.
final class SOCKS5Handler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var parser = SOCKS5Parser()
    private var pending: [UInt8] = []
    private var connecting = false
    private let source: Workload
    private let node: NodeContext

    init(source: Workload, node: NodeContext) {
        self.source = source
        self.node = node
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        guard !connecting else { return }
        while true {
            switch parser.parse(pending) {
            case .needMore:
                return
            case .reply(let bytes, let consumed):
                pending.removeFirst(consumed)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
            case .fail(let reply, let reason):
                node.logger.warning("socks5 request refused", metadata: ["reason": "\(reason)", "src.workload": "\(source.name)"])
                fail(context: context, reply: reply)
                return
            case .connect(let destination, let consumed):
                pending.removeFirst(consumed)
                connecting = true
                _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
                start(context: context, destination: destination)
                return
            }
        }
    }

    private func fail(context: ChannelHandlerContext, reply: [UInt8]) {
        if reply.isEmpty {
            context.close(promise: nil)
            return
        }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: reply))).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }

    private func start(context: ChannelHandlerContext, destination: HostPort) {
        let snapshot = node.snapshot
        let plan = node.planner.plan(destination: destination, snapshot: snapshot)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let client = context.channel.remoteAddress
        switch plan {
        case .reject(let reason):
            node.logger.warning(
                "outbound connection refused",
                metadata: ["src.workload": "\(source.namespace)/\(source.name)", "dst": "\(destination)", "reason": "\(reason)"]
            )
            fail(context: context, reply: SOCKS5Parser.reply(.hostUnreachable))
        case .passthrough(let target):
            let address: SocketAddress
            do {
                address = try SocketAddress(ipAddress: "\(target.ip)", port: Int(target.port))
            } catch {
                fail(context: context, reply: SOCKS5Parser.reply(.addressTypeNotSupported))
                return
            }
            ClientBootstrap(group: context.eventLoop)
                .connectTimeout(.seconds(10))
                .channelOption(.autoRead, value: false)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connect(to: address)
                .whenComplete { result in
                    let (handler, context) = loopBound.value
                    switch result {
                    case .success(let upstream):
                        handler.splice(context: context, upstream: upstream, upstreamClosesItself: false, description: "passthrough \(target)")
                    case .failure(let error):
                        handler.node.logger.info("passthrough connect failed", metadata: ["dst": "\(target)", "error": "\(error)"])
                        handler.fail(context: context, reply: SOCKS5Parser.reply(.connectionRefused))
                    }
                }
        case .hbone(let target):
            let sourceIdentity = snapshot.identity(of: source)
            let request = HBONERequest(
                authority: target.authority,
                forwardedFor: client.flatMap { addr in addr.ipAddress.flatMap { IPAddress($0) }.map { HostPort(ip: $0, port: UInt16(addr.port ?? 0)) } },
                serviceHost: target.service?.hostname,
                baggage: HBONEHeaders.baggage(namespace: source.namespace, workloadKind: source.kind == .pod ? "pod" : "workloadentry", workload: source.name,
                                              service: source.labels["app"], version: source.labels["version"]),
                traceparent: HBONEHeaders.traceparent()
            )
            let key = HBONEClientPool.Key(
                source: sourceIdentity, destination: target.destinationIdentity, address: target.nextHop,
                sourceIP: context.channel.localAddress?.ipAddress.flatMap { IPAddress($0) }
            )
            node.pool.openStream(key: key, request: request, on: context.eventLoop).whenComplete { result in
                let (handler, context) = loopBound.value
                switch result {
                case .success(let stream):
                    handler.splice(
                        context: context, upstream: stream, upstreamClosesItself: true,
                        description: "hbone \(target.destinationIdentity) via \(target.nextHop) authority \(target.authority)"
                    )
                case .failure(let error):
                    let status = (error as? HBONEClientError)?.status
                    handler.node.logger.warning(
                        "outbound hbone failed",
                        metadata: [
                            "src.identity": "\(sourceIdentity)", "dst": "\(target.authority)",
                            "dst.identity": "\(target.destinationIdentity)", "error": "\(error)",
                        ]
                    )
                    let code: SOCKS5Parser.ReplyCode =
                        switch status {
                        case 401, 403: .notAllowed
                        case 503: .connectionRefused
                        default: .hostUnreachable
                        }
                    handler.fail(context: context, reply: SOCKS5Parser.reply(code))
                }
            }
        }
    }

    private func splice(context: ChannelHandlerContext, upstream: any Channel, upstreamClosesItself: Bool, description: String) {
        guard context.channel.isActive else {
            upstream.close(promise: nil)
            return
        }
        node.tracker.track(upstream)
        let logger = node.logger
        let source = self.source
        let started = NIODeadline.now()
        let (downstreamSide, upstreamSide) = GlueHandler.matchedPair(secondClosesItself: upstreamClosesItself) { totals in
            logger.info(
                "connection complete",
                metadata: [
                    "direction": "outbound", "src.workload": "\(source.namespace)/\(source.name)", "route": "\(description)",
                    "bytes_sent": "\(totals.firstToSecond)", "bytes_recv": "\(totals.secondToFirst)",
                    "clean": "\(totals.clean)",
                    "duration": "\((NIODeadline.now() - started).nanoseconds / 1_000_000)ms",
                ]
            )
        }
        do {
            try upstream.pipeline.syncOperations.addHandler(upstreamSide)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: SOCKS5Parser.reply(.succeeded))), promise: nil)
            try context.pipeline.syncOperations.addHandler(downstreamSide, position: .after(self))
            if !pending.isEmpty {
                upstream.writeAndFlush(ByteBuffer(bytes: pending), promise: nil)
                pending = []
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            _ = context.channel.setOption(ChannelOptions.autoRead, value: true)
            _ = upstream.setOption(ChannelOptions.autoRead, value: true)
        } catch {
            upstream.close(promise: nil)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension SOCKS5Handler: Sendable {}
