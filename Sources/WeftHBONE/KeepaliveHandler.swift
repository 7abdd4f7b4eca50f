// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOHTTP2

/// Sends an HTTP/2 PING every `interval` and closes the connection when an ACK does not arrive within `timeout`,
/// so a dead peer (host gone, NAT entry expired) is noticed even when no stream is active. Sits after the
/// `NIOHTTP2Handler`, which passes connection-level frames down the pipeline. Also reports GOAWAY.
final class KeepaliveHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let interval: TimeAmount
    private let timeout: TimeAmount
    private let onGoAway: () -> Void
    private var pingTask: RepeatedTask?
    private var deadline: Scheduled<Void>?
    private var outstanding: HTTP2PingData?

    init(interval: TimeAmount, timeout: TimeAmount, onGoAway: @escaping () -> Void) {
        self.interval = interval
        self.timeout = timeout
        self.onGoAway = onGoAway
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard pingTask == nil else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = loopBound.value
            handler.sendPing(context: context)
        }
    }

    private func sendPing(context: ChannelHandlerContext) {
        guard outstanding == nil else { return }
        let data = HTTP2PingData(withInteger: UInt64.random(in: 1...UInt64.max))
        outstanding = data
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .ping(data, ack: false))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .ping(let data, ack: true) where data == outstanding:
            outstanding = nil
            deadline?.cancel()
            deadline = nil
        case .goAway:
            onGoAway()
        default:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func stop() {
        pingTask?.cancel()
        pingTask = nil
        deadline?.cancel()
        deadline = nil
    }
}

@available(*, unavailable)
extension KeepaliveHandler: Sendable {}
