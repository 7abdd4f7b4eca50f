// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOHTTP1
import NIOHTTP2

/// The HTTP version the waypoint speaks on a Service port, on both legs: HTTP/1.1, or HTTP/2 with prior knowledge
/// (h2c inside the HBONE tunnel; gRPC is HTTP/2). Each inner HTTP/2 stream is turned into HTTP/1-style request and
/// response parts (NIO's codecs carry trailers, which gRPC needs), so ``HTTPProxyHandler`` routes both the same way.
enum HTTPVersionAdapter {
    case http1
    case http2

    /// Sets up the client-facing side on a terminated HBONE stream; `makeProxy` is called once per request stream
    /// (HTTP/2) or once for the connection (HTTP/1.1).
    func configureServer(on channel: any Channel, makeProxy: @escaping @Sendable () -> HTTPProxyHandler) throws {
        let sync = channel.pipeline.syncOperations
        switch self {
        case .http1:
            try sync.configureHTTPServerPipeline(withErrorHandling: true)
            try sync.addHandler(makeProxy())
        case .http2:
            _ = try sync.configureHTTP2Pipeline(mode: .server, connectionConfiguration: .init(), streamConfiguration: .init()) {
                stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                    try stream.pipeline.syncOperations.addHandler(makeProxy())
                }
            }
        }
    }

    /// Sets up the endpoint-facing side on an upstream HBONE stream; the returned channel takes
    /// `HTTPClientRequestPart`s and delivers `HTTPClientResponsePart`s to `downstream` (through an
    /// ``UpstreamResponseRelay``).
    func configureClient(
        on transport: any Channel, downstream: NIOLoopBound<(HTTPProxyHandler, ChannelHandlerContext)>
    ) -> EventLoopFuture<any Channel> {
        configureClient(on: transport) { UpstreamResponseRelay(downstream: downstream) }
    }

    /// The same, with the response dropped (a mirrored request).
    func configureClientDiscardingResponses(on transport: any Channel) -> EventLoopFuture<any Channel> {
        configureClient(on: transport) { ResponseSink() }
    }

    private func configureClient(
        on transport: any Channel, last: @escaping @Sendable () -> any ChannelHandler
    ) -> EventLoopFuture<any Channel> {
        switch self {
        case .http1:
            return transport.eventLoop.makeCompletedFuture {
                let sync = transport.pipeline.syncOperations
                try sync.addHandler(HTTPRequestEncoder())
                try sync.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                try sync.addHandler(last())
                return transport
            }
        case .http2:
            let multiplexer: NIOHTTP2Handler.StreamMultiplexer
            do {
                multiplexer = try transport.pipeline.syncOperations.configureHTTP2Pipeline(
                    mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()
                ) { stream in
                    stream.eventLoop.makeSucceededVoidFuture()  // the endpoint opens no streams towards us
                }
            } catch {
                return transport.eventLoop.makeFailedFuture(error)
            }
            let promise = transport.eventLoop.makePromise(of: (any Channel).self)
            multiplexer.createStreamChannel(promise: promise) { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http))
                    try stream.pipeline.syncOperations.addHandler(last())
                }
            }
            _ = transport.setOption(.autoRead, value: true)
            return promise.futureResult
        }
    }
}
