// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOHPACK
import NIOHTTP2

/// Why an HBONE stream could not be established.
public struct HBONEClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The server answered with a status other than 200 (400 malformed, 401 denied, 503 destination refused…).
    public var status: Int?
    public var reason: String

    public init(status: Int? = nil, reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { status.map { "HBONE \($0): \(reason)" } ?? reason }
}

/// Sends the CONNECT head when the stream opens and completes `response` with the server's answer; on `200`
/// it removes itself so the stream carries bytes.
final class HBONEClientStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let request: HBONERequest
    private var response: EventLoopPromise<Void>?

    init(request: HBONERequest, response: EventLoopPromise<Void>) {
        self.request = request
        self.response = response
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendHead(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendHead(context: context)
        context.fireChannelActive()
    }

    private var sent = false
    private func sendHead(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: request.headers))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let response else {
            context.fireChannelRead(data)
            return
        }
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            let status = headers.headers[":status"].first.flatMap { Int($0) }
            self.response = nil
            if status == 200 && !headers.endStream {
                response.succeed()
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            } else {
                response.fail(HBONEClientError(status: status, reason: "tunnel to \(request.authority) refused"))
                context.close(promise: nil)
            }
        case .rstStream(let code):
            self.response = nil
            response.fail(HBONEClientError(reason: "stream to \(request.authority) reset by the server (\(code))"))
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        response?.fail(HBONEClientError(reason: "HBONE connection closed before \(request.authority) answered"))
        response = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        response?.fail(HBONEClientError(reason: "stream to \(request.authority) failed: \(error)"))
        response = nil
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension HBONEClientStreamHandler: Sendable {}
