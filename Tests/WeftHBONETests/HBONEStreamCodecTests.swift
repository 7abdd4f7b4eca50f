// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOEmbedded
import NIOHTTP2
import Testing
import WeftHBONE

@Suite("HBONE stream codec")
struct HBONEStreamCodecTests {
    final class EventRecorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var bytes: [UInt8] = []
        var inputClosed = false
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed? = event as? ChannelEvent { inputClosed = true }
        }
    }

    @Test("DATA becomes bytes and END_STREAM becomes inputClosed; close(.output) sends END_STREAM")
    func halfClose() throws {
        let recorder = EventRecorder()
        let channel = EmbeddedChannel(handlers: [HBONEStreamCodec(), recorder])
        try channel.writeInbound(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: "abc")))))
        #expect(recorder.bytes == Array("abc".utf8))
        #expect(!recorder.inputClosed)
        try channel.writeInbound(
            HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: "d")), endStream: true))
        )
        #expect(recorder.bytes == Array("abcd".utf8))
        #expect(recorder.inputClosed)

        try channel.writeOutbound(ByteBuffer(string: "xyz"))
        let out = try #require(try channel.readOutbound(as: HTTP2Frame.FramePayload.self))
        guard case .data(let data) = out, case .byteBuffer(let buffer) = data.data else {
            Issue.record("expected DATA")
            return
        }
        #expect(String(buffer: buffer) == "xyz")
        #expect(!data.endStream)
        channel.close(mode: .output, promise: nil)
        let end = try #require(try channel.readOutbound(as: HTTP2Frame.FramePayload.self))
        guard case .data(let last) = end else { Issue.record("expected DATA"); return }
        #expect(last.endStream)
        _ = try? channel.finish()
    }
}
