// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore

/// On an `http` port, tells HTTP/2 with prior knowledge (the client connection preface) from HTTP/1.1, as
/// Istio's protocol sniffing does, then installs the matching server side and replays what it read.
final class HTTPProtocolDetector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let configure: (HTTPVersionAdapter, any Channel) throws -> Void
    private var buffered: ByteBuffer?

    init(configure: @escaping (HTTPVersionAdapter, any Channel) throws -> Void) {
        self.configure = configure
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        guard let bytes = buffered, let version = Self.detect(bytes.readableBytesView) else { return }
        do {
            try configure(version, context.channel)
        } catch {
            context.close(promise: nil)
            return
        }
        buffered = nil
        context.fireChannelRead(wrapInboundOut(bytes))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// `.http2` once the preface is complete, `.http1` as soon as a byte differs from it, `nil` while unsure.
    static func detect(_ bytes: ByteBufferView) -> HTTPVersionAdapter? {
        for (index, byte) in zip(preface.indices, bytes) where byte != preface[index] { return .http1 }
        return bytes.count >= preface.count ? .http2 : nil
    }
}

@available(*, unavailable)
extension HTTPProtocolDetector: Sendable {}
