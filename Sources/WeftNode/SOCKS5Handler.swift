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
    private var pending = PendingInput()
    private var connecting = false
    private let source: Workload
    private let node: NodeContext
    private let connector: OutboundConnector

    init(source: Workload, node: NodeContext, dialer: any UpstreamDialer = DirectDialer()) {
        self.source = source
        self.node = node
        self.connector = OutboundConnector(node: node, source: source, dialer: dialer)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(unwrapInboundIn(data))
        guard !connecting else { return }
        while true {
            switch parser.parse(pending.bytes) {
            case .needMore:
                return
            case .reply(let bytes, let consumed):
                pending.bytes.removeFirst(consumed)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
            case .fail(let reply, let reason):
                node.logger.warning("socks5 request refused", metadata: ["reason": "\(reason)", "src.workload": "\(source.name)"])
                fail(context: context, reply: reply)
                return
            case .connect(let destination, let consumed):
                pending.bytes.removeFirst(consumed)
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
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        connector.open(destination: destination, client: context.channel.remoteAddress, on: context.eventLoop).whenComplete {
            result in
            let (handler, context) = loopBound.value
            switch result {
            case .success(let upstream):
                guard context.channel.isActive else {
                    upstream.channel.close(promise: nil)
                    return
                }
                do {
                    try handler.connector.splice(
                        context: context, upstream: upstream, pending: handler.pending.bytes, inputClosed: handler.pending.inputClosed,
                        reply: ByteBuffer(bytes: SOCKS5Parser.reply(.succeeded))
                    )
                    handler.pending.bytes = []
                } catch {
                    upstream.channel.close(promise: nil)
                    context.close(promise: nil)
                }
            case .failure(let error):
                let code = (error as? OutboundConnector.Failure)?.reply ?? .generalFailure
                handler.fail(context: context, reply: SOCKS5Parser.reply(code))
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !pending.observe(event) { context.fireUserInboundEventTriggered(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension SOCKS5Handler: Sendable {}
