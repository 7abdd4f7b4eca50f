// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import WeftModel

/// What the node decides for one inbound CONNECT.
public enum HBONEInboundDecision: Sendable {
    /// Dial this address (the local workload) and splice.
    case connect(SocketAddress)
    /// Answer 200 and terminate the tunnel here: the stream's bytes go to the handlers `configure` adds (after an
    /// ``HBONEStreamCodec``), e.g. an HTTP server (the waypoint). Called on the stream's event loop.
    case terminate(configure: @Sendable (any Channel) throws -> Void)
    /// Answer with this status and end the stream. `reason` is logged, never sent.
    case reject(status: Int, reason: String)
}

/// Who is on the other side of an inbound HBONE connection.
public struct HBONEPeer: Sendable {
    public var identity: SPIFFEID
    public var remoteAddress: SocketAddress?
    public var localAddress: SocketAddress?
}

/// The node's policy hooks for inbound HBONE, called on the stream's event loop.
public protocol HBONEInboundRouter: Sendable {
    /// Decides what a valid CONNECT from `peer` gets.
    func route(_ request: HBONERequest, from peer: HBONEPeer) -> HBONEInboundDecision
    /// Opens the upstream connection for `peer`; lets the node set socket options (mark, source address).
    func connect(to address: SocketAddress, for peer: HBONEPeer, on eventLoop: any EventLoop) -> EventLoopFuture<any Channel>
    /// A stream was answered `200` and its bytes start to flow.
    func streamEstablished(_ record: HBONEStreamRecord)
    /// A stream ended: how it was answered and how many bytes went each way.
    func streamFinished(_ record: HBONEStreamRecord)
    /// A connection was refused before HTTP/2 (TLS, certificate, ALPN); `code` is the logged reason code.
    func connectionRejected(code: String)
}

extension HBONEInboundRouter {
    public func streamEstablished(_ record: HBONEStreamRecord) {}
    public func connectionRejected(code: String) {}
}

/// The outcome of one HBONE stream, for logs, metrics and access logs.
public struct HBONEStreamRecord: Sendable {
    public var peer: HBONEPeer
    public var request: HBONERequest?
    public var status: Int
    public var reason: String?
    public var bytesFromPeer: UInt64 = 0
    public var bytesToPeer: UInt64 = 0
    public var clean: Bool = false
    /// When the CONNECT arrived.
    public var started: ContinuousClock.Instant = .now
}

/// Handles one inbound HBONE stream: validates the CONNECT head, asks the router, dials the target, answers
/// `200` (or `400`/`503`/…), then splices the stream with the upstream socket and removes itself.
final class HBONEServerStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum State {
        case awaitingHeaders
        case connecting(buffered: [HTTP2Frame.FramePayload])
        case done
    }

    private var state = State.awaitingHeaders
    private let started = ContinuousClock.now
    private let peer: HBONEPeer
    private let router: any HBONEInboundRouter
    private let logger: Logger

    init(peer: HBONEPeer, router: any HBONEInboundRouter, logger: Logger) {
        self.peer = peer
        self.router = router
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch state {
        case .awaitingHeaders:
            guard case .headers(let headers) = frame else {
                reject(context: context, request: nil, status: 400, reason: "stream did not start with HEADERS")
                return
            }
            handle(headers: headers.headers, context: context)
        case .connecting(var buffered):
            buffered.append(frame)
            state = .connecting(buffered: buffered)
        case .done:
            context.fireChannelRead(data)
        }
    }

    private func handle(headers: HPACKHeaders, context: ChannelHandlerContext) {
        let request: HBONERequest
        do {
            request = try HBONERequest(parsing: headers)
        } catch {
            reject(context: context, request: nil, status: error.status, reason: error.reason)
            return
        }
        switch router.route(request, from: peer) {
        case .reject(let status, let reason):
            reject(context: context, request: request, status: status, reason: reason)
        case .terminate(let configure):
            terminate(context: context, request: request, configure: configure)
        case .connect(let address):
            state = .connecting(buffered: [])
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            router.connect(to: address, for: peer, on: context.eventLoop).hop(to: context.eventLoop).whenComplete { result in
                let (handler, context) = loopBound.value
                switch result {
                case .success(let upstream):
                    handler.splice(context: context, request: request, upstream: upstream)
                case .failure(let error):
                    handler.reject(
                        context: context, request: request, status: 503,
                        reason: "destination \(request.authority) refused or unreachable: \(error)"
                    )
                }
            }
        }
    }

    private func splice(context: ChannelHandlerContext, request: HBONERequest, upstream: any Channel) {
        guard case .connecting(let buffered) = state, context.channel.isActive else {
            upstream.close(promise: nil)
            return
        }
        state = .done
        var record = HBONEStreamRecord(peer: peer, request: request, status: 200, started: started)
        let router = self.router
        let (streamSide, upstreamSide) = GlueHandler.matchedPair(firstClosesItself: true) { totals in
            record.bytesFromPeer = totals.firstToSecond
            record.bytesToPeer = totals.secondToFirst
            record.clean = totals.clean
            router.streamFinished(record)
        }
        do {
            try upstream.pipeline.syncOperations.addHandler(upstreamSide)
            context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: [":status": "200"]))), promise: nil)
            try context.pipeline.syncOperations.addHandlers([HBONEStreamCodec(), streamSide], position: .after(self))
            upstream.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in upstream.close(promise: nil) }
            router.streamEstablished(record)
            for frame in buffered { context.fireChannelRead(wrapInboundOut(frame)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            upstream.close(promise: nil)
            context.close(promise: nil)
        }
    }

    private func terminate(
        context: ChannelHandlerContext, request: HBONERequest, configure: @Sendable (any Channel) throws -> Void
    ) {
        state = .done
        let record = HBONEStreamRecord(peer: peer, request: request, status: 200, started: started)
        do {
            context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: [":status": "200"]))), promise: nil)
            try context.pipeline.syncOperations.addHandler(HBONEStreamCodec(gracefulClose: true), position: .after(self))
            try configure(context.channel)
            router.streamEstablished(record)
            let router = self.router
            context.channel.closeFuture.whenComplete { _ in router.streamFinished(record) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            reject(context: context, request: request, status: 500, reason: "cannot serve the stream: \(error)")
        }
    }

    private func reject(context: ChannelHandlerContext, request: HBONERequest?, status: Int, reason: String) {
        state = .done
        logger.warning(
            "hbone request rejected",
            metadata: [
                "status": "\(status)", "reason": "\(reason)", "peer": "\(peer.identity)",
                "peer_addr": "\(peer.remoteAddress.map { "\($0)" } ?? "-")",
            ]
        )
        let headers = HTTP2Frame.FramePayload.headers(.init(headers: [":status": "\(status)"], endStream: true))
        // Then reset the stream: a CONNECT client may never end its side, and the stream must not linger.
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(headers)).whenComplete { _ in loopBound.value.close(promise: nil) }
        router.streamFinished(
            HBONEStreamRecord(peer: peer, request: request, status: status, reason: reason, started: started)
        )
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .done
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension HBONEServerStreamHandler: Sendable {}
