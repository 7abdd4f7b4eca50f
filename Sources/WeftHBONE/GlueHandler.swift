// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Splices two channels of `ByteBuffer`s on the same event loop: what one reads the other writes, with
/// back-pressure (a side stops reading while its partner is not writable) and TCP half-close carried across.
///
/// Half-close: when one side reads EOF (`ChannelEvent.inputClosed`), the partner's output is closed (a TCP FIN, or
/// END_STREAM on an HBONE stream) after its pending writes. A side whose both directions are done closes. An
/// abnormal end (reset, error) of one side aborts the other, so a half-finished transfer never looks complete.
public final class GlueHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Bytes moved by a splice, reported once when both sides are gone.
    public struct Totals: Sendable {
        /// Read from the first channel and written to the second.
        public var firstToSecond: UInt64
        /// Read from the second channel and written to the first.
        public var secondToFirst: UInt64
        /// Whether both directions finished with a clean EOF.
        public var clean: Bool
    }

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// This side read EOF and closed the partner's output.
    private(set) var inputDone = false
    /// The partner read EOF and closed this side's output.
    private(set) var outputDone = false
    /// HTTP/2 stream channels close on their own once END_STREAM went both ways; closing them early would
    /// reset the stream and drop data still waiting for flow-control credit.
    private let closesItself: Bool
    private var bytesRead: UInt64 = 0
    private var finished = false
    private var sawError = false
    private var onFinish: ((Totals) -> Void)?
    private var isFirst = false

    private init(closesItself: Bool) {
        self.closesItself = closesItself
    }

    /// Creates the two handlers of a splice. Add `first` to one channel and `second` to the other; both
    /// channels must be on the same event loop. `onFinish` runs once, on that loop, after both are closed.
    public static func matchedPair(
        firstClosesItself: Bool = false,
        secondClosesItself: Bool = false,
        onFinish: ((Totals) -> Void)? = nil
    ) -> (first: GlueHandler, second: GlueHandler) {
        let first = GlueHandler(closesItself: firstClosesItself)
        let second = GlueHandler(closesItself: secondClosesItself)
        first.partner = second
        second.partner = first
        first.isFirst = true
        first.onFinish = onFinish
        return (first, second)
    }

    /// Counts bytes this side read before the splice existed and that the caller forwarded itself.
    public func countPrefetched(_ count: Int) {
        bytesRead &+= UInt64(count)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        bytesRead &+= UInt64(buffer.readableBytes)
        partner?.partnerWrite(buffer)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            guard !inputDone else { return }
            inputDone = true
            partner?.partnerCloseOutput()
            if outputDone && !closesItself { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        // NIO closes a socket whose output is already shut when it reads EOF, without an `inputClosed` event;
        // with no error seen, that is a clean end of the input.
        if !inputDone && outputDone && !sawError {
            inputDone = true
            partner?.partnerCloseOutput()
        }
        // Both directions of this side ended cleanly: the partner is finishing on its own (a TCP partner closes
        // once its output is flushed, a stream once END_STREAM has gone both ways). Anything else is an abort.
        if !(inputDone && outputDone) { partner?.partnerClose() }
        finish()
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        sawError = true
        context.close(promise: nil)
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    public func read(context: ChannelHandlerContext) {
        if let partner, let partnerContext = partner.context, !partnerContext.channel.isWritable {
            pendingRead = true
        } else {
            context.read()
        }
    }

    // MARK: - Partner operations

    private func partnerWrite(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    private func partnerFlush() {
        context?.flush()
    }

    private func partnerCloseOutput() {
        guard let context, !outputDone else { return }
        outputDone = true
        let closesItself = self.closesItself
        // Writes forwarded in this read burst are not flushed yet; a half-close discards unflushed writes.
        context.flush()
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .output, promise: promise)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { result in
            let handler = loopBound.value
            guard let context = handler.context else { return }
            switch result {
            case .success:
                if handler.inputDone && !closesItself { context.close(promise: nil) }
            case .failure:
                context.close(promise: nil)
            }
        }
    }

    /// The partner's transfer was aborted: so is this side's. A TCP socket is closed with a reset (SO_LINGER 0),
    /// so its application sees "connection reset", never a FIN that would pass for a complete transfer; an HTTP/2
    /// stream is reset (RST_STREAM) by closing it.
    private func partnerClose() {
        guard let context else { return }
        let channel = context.channel
        guard let provider = channel as? any SocketOptionProvider else {
            context.close(promise: nil)
            return
        }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        let first = isFirst ? self : partner
        let second = isFirst ? partner : self
        guard let first, let second, first.finished, second.finished else { return }
        let totals = Totals(
            firstToSecond: first.bytesRead,
            secondToFirst: second.bytesRead,
            clean: first.inputDone && second.inputDone
        )
        let callback = first.onFinish
        first.onFinish = nil
        callback?(totals)
    }
}

@available(*, unavailable)
extension GlueHandler: Sendable {}
