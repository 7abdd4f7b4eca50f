// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore

/// Hands the HTTP/2 frame decoder the decrypted bytes of a TLS connection in chunks of at most `chunkSize`.
///
/// Why: NIOHTTP2's frame decoder copies what it reads into one accumulation buffer, and every DATA frame it emits
/// (a whole frame, or the part of a large frame received so far) is a view of that buffer's storage. Whenever a
/// frame is still referenced — queued in a stream channel that is not reading, or in a socket's pending writes —
/// the next append copies the buffer at its full capacity, and that capacity only grows: one burst of decrypted
/// bytes (several MiB under load) sets it for the connection's life. Measured with heaptrack on node B under one
/// iperf3 stream: a 16 MiB accumulation buffer, copied for each queued frame, held 67 MiB at the peak for 4 MiB of
/// data in flight. With small appends the buffer stays near twice `chunkSize`, so a queued frame pins about
/// 128 KiB at most (ARCHITECTURE.md, "Memory under back-pressure").
///
/// The chunks are slices of the decrypted buffer (no copy); the decoder copies them once, as it did before.
final class PlaintextChunker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// 64 KiB. Measured with 20 tunnels into a server that never reads: 16 and 64 KiB chunks held node B at
    /// 290–300 MiB of anonymous memory, 1 MiB chunks at 2 GiB; the CPU per byte was the same for 16 KiB to 1 MiB.
    static let defaultChunkSize = 64 << 10

    private let chunkSize: Int

    init(chunkSize: Int = PlaintextChunker.defaultChunkSize) {
        precondition(chunkSize > 0, "chunkSize must be positive")
        self.chunkSize = chunkSize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if buffer.readableBytes <= chunkSize {
            context.fireChannelRead(data)
            return
        }
        while buffer.readableBytes > 0 {
            let chunk = buffer.readSlice(length: min(chunkSize, buffer.readableBytes))!
            context.fireChannelRead(wrapInboundOut(chunk))
        }
    }
}

@available(*, unavailable)
extension PlaintextChunker: Sendable {}
