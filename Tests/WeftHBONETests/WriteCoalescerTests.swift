// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOEmbedded
import Testing

@testable import WeftHBONE

/// Counts the flushes that reach the socket side of the coalescer.
private final class FlushCounter: ChannelOutboundHandler {
    typealias OutboundIn = IOData
    var flushes = 0

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

@Suite("Write coalescer")
struct WriteCoalescerTests {
    private func bytes(_ size: Int, seed: UInt8) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) &+ seed }
    }

    private func drain(_ channel: EmbeddedChannel) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            out.append(buffer.readBytes(length: buffer.readableBytes) ?? [])
        }
        return out
    }

    @Test("small writes leave as one buffer, in order, when the loop's tick ends")
    func mergesSmallWrites() throws {
        let counter = FlushCounter()
        let channel = EmbeddedChannel(handlers: [counter, WriteCoalescer()])
        let parts = [bytes(9, seed: 1), bytes(120, seed: 2), bytes(9, seed: 3), bytes(300, seed: 4)]
        for (index, part) in parts.enumerated() {
            channel.write(ByteBuffer(bytes: part), promise: nil)
            if index % 2 == 1 { channel.flush() }  // two streams flushing the connection in one pass
        }
        #expect(try drain(channel).isEmpty, "nothing leaves before the tick ends")
        #expect(counter.flushes == 0)
        channel.embeddedEventLoop.run()
        #expect(try drain(channel) == [parts.flatMap { $0 }])
        #expect(counter.flushes == 1)
        _ = try channel.finish()
    }

    @Test("a write larger than a record passes through without a copy, after what was pending")
    func largeWritesPassThrough() throws {
        let channel = EmbeddedChannel(handler: WriteCoalescer())
        let header = bytes(9, seed: 5)
        let payload = bytes(64 << 10, seed: 6)
        let tail = bytes(9, seed: 7)
        channel.write(ByteBuffer(bytes: header), promise: nil)
        channel.write(ByteBuffer(bytes: payload), promise: nil)
        channel.writeAndFlush(ByteBuffer(bytes: tail), promise: nil)
        channel.embeddedEventLoop.run()
        #expect(try drain(channel) == [header, payload, tail])
        _ = try channel.finish()
    }

    @Test("any sequence of writes comes out whole, in order, in buffers no larger than the limit unless given so")
    func preservesBytesAndOrder() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<50 {
            let limit = [64, 1000, 16 << 10][round % 3]
            let channel = EmbeddedChannel(handler: WriteCoalescer(mergeLimit: limit))
            var sent: [[UInt8]] = []
            for index in 0..<Int.random(in: 1...40, using: &generator) {
                let size = Int.random(in: 0...(2 * limit), using: &generator)
                let part = bytes(size, seed: UInt8(truncatingIfNeeded: index))
                sent.append(part)
                channel.write(ByteBuffer(bytes: part), promise: nil)
                if Bool.random(using: &generator) { channel.flush() }
                if Int.random(in: 0..<5, using: &generator) == 0 { channel.embeddedEventLoop.run() }
            }
            channel.flush()
            channel.embeddedEventLoop.run()
            let out = try drain(channel)
            #expect(out.flatMap { $0 } == sent.flatMap { $0 })
            for buffer in out where buffer.count > limit {
                #expect(sent.contains(buffer), "only a write given larger than the limit may leave larger")
            }
            _ = try channel.finish()
        }
    }

    @Test("every write's promise completes when the merged buffer is written")
    func completesMergedPromises() throws {
        let channel = EmbeddedChannel(handler: WriteCoalescer())
        let promises = (0..<4).map { _ in channel.eventLoop.makePromise(of: Void.self) }
        let done = NIOLoopBoundBox(0, eventLoop: channel.eventLoop)
        for (index, promise) in promises.enumerated() {
            promise.futureResult.whenSuccess { done.value += 1 }
            channel.write(ByteBuffer(bytes: bytes(10, seed: UInt8(index))), promise: index == 2 ? nil : promise)
        }
        promises[2].succeed()  // a write without a promise in the middle
        channel.flush()
        #expect(done.value == 1)
        channel.embeddedEventLoop.run()
        #expect(done.value == 4)
        #expect(try drain(channel).count == 1)
        _ = try channel.finish()
    }

    @Test("a close first sends what was written before it")
    func closeFlushesPending() throws {
        let channel = EmbeddedChannel(handler: WriteCoalescer())
        let part = bytes(50, seed: 9)
        channel.writeAndFlush(ByteBuffer(bytes: part), promise: nil)
        channel.close(promise: nil)
        #expect(try drain(channel) == [part])
    }

    @Test("writes still pending when the connection goes away fail their promises")
    func inactiveFailsPending() throws {
        let channel = EmbeddedChannel(handler: WriteCoalescer())
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let failed = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
        promise.futureResult.whenFailure { _ in failed.value = true }
        channel.write(ByteBuffer(bytes: bytes(10, seed: 1)), promise: promise)
        channel.pipeline.fireChannelInactive()
        #expect(failed.value)
    }
}
