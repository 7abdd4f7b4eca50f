// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOCore
import NIOHTTP1
import WeftModel

/// A request to one of the node's small HTTP servers (admin, metrics, readiness).
public struct EndpointRequest: Sendable {
    public var method: HTTPMethod
    /// The path without the query string.
    public var path: String
    /// Query parameters; the last value wins.
    public var query: [String: String]

    public init(method: HTTPMethod, uri: String) {
        self.method = method
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = String(parts.first ?? "/")
        var query: [String: String] = [:]
        if parts.count == 2 {
            for item in parts[1].split(separator: "&") {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = Self.percentDecoded(pair[0])
                query[key] = pair.count == 2 ? Self.percentDecoded(pair[1]) : ""
            }
        }
        self.query = query
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A response of the node's small HTTP servers.
public struct EndpointResponse: Sendable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: [UInt8]

    public init(status: HTTPResponseStatus = .ok, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public init(status: HTTPResponseStatus = .ok, text: String) {
        self.init(status: status, body: Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}

/// Serves HTTP/1.1 requests with an async responder: reads one request (head only; a body is refused), answers
/// it, keeps the connection open if the client asked to. Pipelined requests are answered in order by NIO's
/// pipelining handler in front of this one.
final class HTTPEndpointHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    typealias Responder = @Sendable (EndpointRequest) async -> EndpointResponse

    private let respond: Responder
    private var head: HTTPRequestHead?
    private var bodyTooLarge = false

    init(respond: @escaping Responder) {
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyTooLarge = false
        case .body(let body):
            // The endpoints take their arguments in the query; a body is accepted only if small, and ignored.
            if body.readableBytes > 4096 { bodyTooLarge = true }
        case .end:
            guard let head else { return }
            self.head = nil
            if bodyTooLarge {
                write(EndpointResponse(status: .payloadTooLarge, text: "request body too large"), head: head, context: context)
                return
            }
            let request = EndpointRequest(method: head.method, uri: head.uri)
            let respond = self.respond
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask { await respond(request) }.whenSuccess { response in
                let (handler, context) = loopBound.value
                handler.write(response, head: head, context: context)
            }
        }
    }

    private func write(_ response: EndpointResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: "\(response.body.count)")
        headers.add(name: "cache-control", value: "no-store")
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // An idle keep-alive connection (or a client that never finishes its request) is closed.
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension HTTPEndpointHandler: Sendable {}

extension HTTPEndpointHandler {
    /// A listener serving `respond` over HTTP/1.1 on `address`; it does not share its port (no SO_REUSEPORT), so a
    /// clash fails at start.
    static func listener(
        name: String, address: HostPort, group: any EventLoopGroup, logger: Logger, respond: @escaping Responder
    ) -> ListenerService {
        let socketAddress = try! SocketAddress(ipAddress: "\(address.ip)", port: Int(address.port))
        return ListenerService(
            name: name, address: socketAddress, group: group, logger: logger, halfClosure: false, reusePort: false
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                try sync.configureHTTPServerPipeline(withErrorHandling: true)
                try sync.addHandler(IdleStateHandler(readTimeout: .seconds(30)))
                try sync.addHandler(HTTPEndpointHandler(respond: respond))
            }
        }
    }
}
