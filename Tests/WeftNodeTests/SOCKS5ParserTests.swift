// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel
import WeftNode

@Suite("SOCKS5 parser")
struct SOCKS5ParserTests {
    @Test("greeting then IPv4 CONNECT, fed byte by byte")
    func byteByByte() {
        var parser = SOCKS5Parser()
        let greeting: [UInt8] = [5, 2, 2, 0]
        let request: [UInt8] = [5, 1, 0, 1, 10, 0, 0, 2, 0x1F, 0x90, 0xAA]  // trailing early payload byte
        var buffer: [UInt8] = []
        var steps: [SOCKS5Parser.Step] = []
        for byte in greeting + request {
            buffer.append(byte)
            switch parser.parse(buffer) {
            case .needMore: continue
            case .reply(let bytes, let consumed):
                steps.append(.reply(bytes, consumed: consumed))
                buffer.removeFirst(consumed)
            case let other:
                steps.append(other)
                if case .connect(_, let consumed) = other { buffer.removeFirst(consumed) }
            }
        }
        #expect(steps == [.reply([5, 0], consumed: 4), .connect(HostPort(parsing: "10.0.0.2:8080")!, consumed: 10)])
        #expect(buffer == [0xAA])  // payload sent before the reply is left to the caller to forward
    }

    @Test("IPv6 CONNECT")
    func ipv6() {
        var parser = SOCKS5Parser()
        _ = parser.parse([5, 1, 0])
        let request: [UInt8] = [5, 1, 0, 4] + [UInt8](repeating: 0, count: 15) + [1] + [0, 80]
        #expect(parser.parse(request) == .connect(HostPort(parsing: "[::1]:80")!, consumed: 22))
    }

    @Test(
        "refusals carry the right reply",
        arguments: [
            ([UInt8]([4, 1, 0]), [UInt8]()),  // SOCKS4
            ([5, 1, 2], [5, 0xFF]),  // only username/password offered
        ]
    )
    func greetingRefused(_ input: [UInt8], _ reply: [UInt8]) {
        var parser = SOCKS5Parser()
        guard case .fail(let got, _) = parser.parse(input) else { Issue.record("expected failure"); return }
        #expect(got == reply)
    }

    @Test(
        "request refusals",
        arguments: [
            ([UInt8]([5, 2, 0, 1, 1, 2, 3, 4, 0, 80]), SOCKS5Parser.ReplyCode.commandNotSupported),  // BIND
            ([5, 1, 0, 3, 4, 0x61, 0x62, 0x63, 0x64, 0, 80], .addressTypeNotSupported),  // domain name
            ([5, 1, 0, 1, 1, 2, 3, 4, 0, 0], .generalFailure),  // port 0
        ]
    )
    func requestRefused(_ request: [UInt8], _ code: SOCKS5Parser.ReplyCode) {
        var parser = SOCKS5Parser()
        _ = parser.parse([5, 1, 0])
        guard case .fail(let reply, _) = parser.parse(request) else { Issue.record("expected failure"); return }
        #expect(reply == SOCKS5Parser.reply(code))
    }
}
