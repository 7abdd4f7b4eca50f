// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOEmbedded
import Testing

@testable import WeftHBONE

@Suite("Plaintext chunker")
struct PlaintextChunkerTests {
    /// Feeds `sizes` as separate reads and returns the sizes and concatenated bytes that came out.
    private func pass(_ sizes: [Int], chunkSize: Int) throws -> (reads: [Int], bytes: [UInt8], sent: [UInt8]) {
        let channel = EmbeddedChannel(handler: PlaintextChunker(chunkSize: chunkSize))
        var sent: [UInt8] = []
        var counter: UInt8 = 0
        for size in sizes {
            let bytes = (0..<size).map { _ -> UInt8 in
                counter &+= 7
                return counter
            }
            sent += bytes
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        }
        var reads: [Int] = []
        var received: [UInt8] = []
        while var buffer = try channel.readInbound(as: ByteBuffer.self) {
            reads.append(buffer.readableBytes)
            received += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        _ = try channel.finish()
        return (reads, received, sent)
    }

    @Test("a large read is cut into chunks, in order, without losing a byte")
    func splitsLargeReads() throws {
        let result = try pass([200 << 10], chunkSize: 64 << 10)
        #expect(result.reads == [64 << 10, 64 << 10, 64 << 10, 8 << 10])
        #expect(result.bytes == result.sent)
    }

    @Test("reads up to the chunk size pass through untouched")
    func passesSmallReads() throws {
        let result = try pass([1, 64 << 10, 300, (64 << 10) + 1], chunkSize: 64 << 10)
        #expect(result.reads == [1, 64 << 10, 300, 64 << 10, 1])
        #expect(result.bytes == result.sent)
    }

    @Test("the default chunk is 64 KiB")
    func defaultChunk() {
        #expect(PlaintextChunker.defaultChunkSize == 64 << 10)
    }
}
