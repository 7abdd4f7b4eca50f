// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import WeftHBONE
import WeftModel

/// A TCP port of a Service that uses the waypoint: the terminated stream is spliced, byte for byte, with an HBONE
/// stream to one endpoint of the Service (as Istio's waypoints do for TCP: L4 only). Bytes that arrive before the
/// upstream is ready are kept and sent first.
final class TCPProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let upstreams: WaypointUpstreams
    private let service: MeshService
    private let port: UInt16
    private let snapshot: MeshSnapshot
    private let done: @Sendable (_ endpoint: String?, _ error: String?) -> Void
    private var pending: [ByteBuffer] = []
    private var inputClosed = false

    init(
        upstreams: WaypointUpstreams, service: MeshService, port: UInt16, snapshot: MeshSnapshot,
        done: @escaping @Sendable (_ endpoint: String?, _ error: String?) -> Void
    ) {
        self.upstreams = upstreams
        self.service = service
        self.port = port
        self.snapshot = snapshot
        self.done = done
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        upstreams.open(service: service, port: port, snapshot: snapshot, on: context.eventLoop).hop(to: context.eventLoop)
            .whenComplete { result in
                let (handler, context) = loopBound.value
                handler.connected(result, context: context)
            }
    }

    private func connected(_ result: Result<WaypointUpstreams.Upstream, any Error>, context: ChannelHandlerContext) {
        switch result {
        case .failure(let error):
            done(nil, "\(error)")
            context.close(promise: nil)
        case .success(let upstream):
            guard context.channel.isActive else {
                upstream.channel.close(promise: nil)
                return
            }
            let done = self.done
            let endpoint = upstream.endpoint
            let (downstreamSide, upstreamSide) = GlueHandler.matchedPair(firstClosesItself: true, secondClosesItself: true) {
                totals in
                done(endpoint, totals.clean ? nil : "connection reset before both directions finished")
            }
            do {
                try upstream.channel.pipeline.syncOperations.addHandler(upstreamSide)
                try context.pipeline.syncOperations.addHandler(downstreamSide, position: .after(self))
            } catch {
                upstream.channel.close(promise: nil)
                context.close(promise: nil)
                return
            }
            for buffer in pending {
                downstreamSide.countPrefetched(buffer.readableBytes)
                upstream.channel.write(buffer, promise: nil)
            }
            upstream.channel.flush()
            pending = []
            if inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            _ = upstream.channel.setOption(.autoRead, value: true)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed? = event as? ChannelEvent {
            inputClosed = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension TCPProxyHandler: Sendable {}
