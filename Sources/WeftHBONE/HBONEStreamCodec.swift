// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOHTTP2

/// Turns an established HBONE stream into a byte stream with TCP half-close semantics.
///
/// Inbound DATA becomes `ByteBuffer`s; END_STREAM becomes `ChannelEvent.inputClosed`. Outbound `ByteBuffer`s
/// become DATA frames; `close(mode: .output)` sends an empty DATA frame with END_STREAM (the FIN of the tunnel).
/// The stream channel closes by itself once END_STREAM has gone both ways.
/// With `gracefulClose`, `close(mode: .all)` first ends the output (END_STREAM after pending writes).
public final class HBONEStreamCodec: ChannelDuplexHandler {
    public typealias InboundIn = HTTP2Frame.FramePayload
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = HTTP2Frame.FramePayload

    private var outputClosed = false
    private var inputClosed = false
    /// With `true`, a full close sends END_STREAM after what was written before it resets the stream (for a stream
    /// terminated here, such as the waypoint's HTTP server, whose last response must arrive whole).
    private let gracefulClose: Bool

    public init(gracefulClose: Bool = false) {
        self.gracefulClose = gracefulClose
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .data(let data):
            if case .byteBuffer(let buffer) = data.data, buffer.readableBytes > 0 {
                context.fireChannelRead(wrapInboundOut(buffer))
            }
            if data.endStream { markInputClosed(context: context) }
        case .headers(let headers):
            // Trailers end the stream; their content means nothing for a byte tunnel.
            if headers.endStream { markInputClosed(context: context) }
        default:
            break
        }
    }

    private func markInputClosed(context: ChannelHandlerContext) {
        guard !inputClosed else { return }
        inputClosed = true
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        let frame = HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(buffer), endStream: false))
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .output else {
            guard gracefulClose, mode == .all, !outputClosed, context.channel.isActive else {
                context.close(mode: mode, promise: promise)
                return
            }
            // What was written goes out with END_STREAM first, so the peer sees a complete answer; only then is
            // the stream reset (if the peer has not finished sending).
            outputClosed = true
            let frame = HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in
                loopBound.value.close(mode: .all, promise: promise)
            }
            return
        }
        guard !outputClosed else {
            promise?.succeed()
            return
        }
        outputClosed = true
        let frame = HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))
        context.writeAndFlush(wrapOutboundOut(frame), promise: promise)
    }
}

@available(*, unavailable)
extension HBONEStreamCodec: Sendable {}
