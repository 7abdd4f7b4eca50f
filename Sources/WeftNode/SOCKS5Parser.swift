// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// The server side of a SOCKS5 handshake (RFC 1928), no authentication, CONNECT only, IP addresses only.
///
/// Pure: feed it bytes, it says what to answer and when the CONNECT target is known. Bytes after the request
/// (a client that does not wait for the reply) are left for the caller to forward.
public struct SOCKS5Parser: Sendable {
    public enum Step: Hashable, Sendable {
        /// More bytes are needed.
        case needMore
        /// Send these bytes (the method selection), drop `consumed` bytes and keep reading.
        case reply([UInt8], consumed: Int)
        /// The client asks to CONNECT here; `consumed` bytes belong to the handshake.
        case connect(HostPort, consumed: Int)
        /// Send these bytes (if any) and close; `reason` is for the log.
        case fail(reply: [UInt8], reason: String)
    }

    /// SOCKS5 reply codes used by Weft.
    public enum ReplyCode: UInt8, Sendable {
        case succeeded = 0x00
        case generalFailure = 0x01
        case notAllowed = 0x02
        case hostUnreachable = 0x04
        case connectionRefused = 0x05
        case commandNotSupported = 0x07
        case addressTypeNotSupported = 0x08
    }

    private enum State { case greeting, request, done }
    private var state = State.greeting

    public init() {}

    /// Parses from the start of `bytes` (the caller keeps unconsumed bytes and calls again with more).
    public mutating func parse(_ bytes: [UInt8]) -> Step {
        switch state {
        case .done:
            return .needMore
        case .greeting:
            guard bytes.count >= 2 else { return .needMore }
            guard bytes[0] == 0x05 else {
                state = .done
                return .fail(reply: [], reason: "not a SOCKS5 client (version byte \(bytes[0]))")
            }
            let methods = Int(bytes[1])
            guard bytes.count >= 2 + methods else { return .needMore }
            guard bytes[2..<(2 + methods)].contains(0x00) else {
                state = .done
                return .fail(reply: [0x05, 0xFF], reason: "client offers no 'no authentication' method")
            }
            state = .request
            return .reply([0x05, 0x00], consumed: 2 + methods)
        case .request:
            guard bytes.count >= 4 else { return .needMore }
            guard bytes[0] == 0x05 else {
                state = .done
                return .fail(reply: Self.reply(.generalFailure), reason: "bad SOCKS5 request version")
            }
            guard bytes[1] == 0x01 else {
                state = .done
                return .fail(reply: Self.reply(.commandNotSupported), reason: "SOCKS5 command \(bytes[1]) not supported, only CONNECT")
            }
            let length: Int
            switch bytes[3] {
            case 0x01: length = 4
            case 0x04: length = 16
            default:
                state = .done
                return .fail(
                    reply: Self.reply(.addressTypeNotSupported),
                    reason: "SOCKS5 address type \(bytes[3]) not supported; connect by IP address"
                )
            }
            guard bytes.count >= 4 + length + 2 else { return .needMore }
            let addr = Array(bytes[4..<(4 + length)])
            let port = UInt16(bytes[4 + length]) << 8 | UInt16(bytes[5 + length])
            let ip: IPAddress
            if length == 4 {
                ip = .v4(addr.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            } else {
                ip = .v6(
                    addr[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) },
                    addr[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                )
            }
            state = .done
            guard port != 0 else {
                return .fail(reply: Self.reply(.generalFailure), reason: "SOCKS5 CONNECT to port 0")
            }
            return .connect(HostPort(ip: ip, port: port), consumed: 4 + length + 2)
        }
    }

    /// A reply with an all-zero bound address.
    public static func reply(_ code: ReplyCode) -> [UInt8] {
        [0x05, code.rawValue, 0x00, 0x01, 0, 0, 0, 0, 0, 0]
    }
}
