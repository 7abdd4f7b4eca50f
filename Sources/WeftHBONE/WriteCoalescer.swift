// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore

/// Sits between the HTTP/2 handler and TLS on every HBONE connection and turns many small writes into few TLS
/// records and few system calls.
///
/// Two things, both measured on the waypoint path at c64 (`perf stat`: 2 `write(2)` per request in each process):
/// - **Small writes are merged** into one buffer of at most one TLS record (16 KiB). NIOHTTP2 writes every DATA
///   frame as two buffers — its 9-byte header and the payload — and TLS seals each buffer it is given as its own
///   record, so a 100-byte request cost two records (one of 9 bytes) to seal, send and open on the other side.
///   Writes larger than what is left of a record pass through untouched (no copy of bulk data).
/// - **Flushes wait for the end of the event loop's tick.** A tunnel's bytes are relayed from another connection
///   (a pod's socket, the other leg of the waypoint), so NIOHTTP2's own "flush at the end of the read burst" never
///   applies: each stream flushed the shared connection on its own. Now every stream that wrote during one pass
///   over the ready sockets leaves in one TLS flush and one `write(2)`. The delay is bounded by that pass (the
///   flush is an event-loop task, which NIO runs right after the I/O it is handling).
///
/// A close flushes what is pending first, so nothing written before it is lost.
final class WriteCoalescer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// The largest plaintext of one TLS record (RFC 8446 §5.1).
    static let recordSize = 16 << 10

    private let mergeLimit: Int
    /// The writes not yet passed on: one buffer (its first write, or a merge of several) and their promises.
    private var pending: ByteBuffer?
    private var pendingIsMerged = false
    private var pendingPromise: EventLoopPromise<Void>?
    private var flushScheduled = false
    private var flushRequested = false
    private var context: ChannelHandlerContext?

    init(mergeLimit: Int = WriteCoalescer.recordSize) {
        precondition(mergeLimit > 0, "mergeLimit must be positive")
        self.mergeLimit = mergeLimit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        passPending(context: context)
        if flushRequested {
            flushRequested = false
            context.flush()
        }
        self.context = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(var buffer) = unwrapOutboundIn(data) else {
            passPending(context: context)
            context.write(data, promise: promise)
            return
        }
        guard var merged = pending else {
            pending = buffer
            pendingIsMerged = false
            pendingPromise = promise
            return
        }
        guard merged.readableBytes + buffer.readableBytes <= mergeLimit else {
            passPending(context: context)
            if buffer.readableBytes < mergeLimit {
                pending = buffer
                pendingIsMerged = false
                pendingPromise = promise
            } else {
                context.write(data, promise: promise)
            }
            return
        }
        if !pendingIsMerged {
            // The first write is someone else's buffer (NIOHTTP2 reuses its frame-header buffer): copy it into a
            // buffer of our own, sized for a whole record, before appending.
            var own = context.channel.allocator.buffer(capacity: mergeLimit)
            own.writeBuffer(&merged)
            merged = own
            pendingIsMerged = true
        }
        pending = nil  // one reference while appending: no copy-on-write
        merged.writeBuffer(&buffer)
        pending = merged
        if let promise {
            if let earlier = pendingPromise {
                earlier.futureResult.cascade(to: promise)
            } else {
                pendingPromise = promise
            }
        }
    }

    func flush(context: ChannelHandlerContext) {
        flushRequested = true
        guard !flushScheduled else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            loopBound.value.flushNow()
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        passPending(context: context)
        if flushRequested {
            flushRequested = false
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if pending != nil {
            pending = nil
            pendingPromise?.fail(ChannelError.ioOnClosedChannel)
            pendingPromise = nil
        }
        context.fireChannelInactive()
    }

    private func flushNow() {
        flushScheduled = false
        guard let context else { return }
        passPending(context: context)
        guard flushRequested else { return }
        flushRequested = false
        context.flush()
    }

    private func passPending(context: ChannelHandlerContext) {
        guard let buffer = pending else { return }
        let promise = pendingPromise
        pending = nil
        pendingPromise = nil
        pendingIsMerged = false
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
    }
}

@available(*, unavailable)
extension WriteCoalescer: Sendable {}
