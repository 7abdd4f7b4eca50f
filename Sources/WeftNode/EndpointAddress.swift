// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// The address of one of the node's HTTP endpoints (`--admin-address`, `--metrics-address`,
/// `--readiness-address`): `ip:port`, `[ipv6]:port`, or `off`.
public enum EndpointAddress {
    /// A value that is not an address, or an admin address that is not loopback.
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// `nil` for `off`. With `loopbackOnly`, only 127.0.0.0/8 and ::1 are accepted (the admin endpoint can change
    /// log levels and shows the whole configuration: it must not be reachable from the network).
    public static func parse(_ text: String, option: String, loopbackOnly: Bool = false) throws(ParseError) -> HostPort? {
        if text == "off" { return nil }
        guard let address = HostPort(parsing: text) else {
            throw ParseError(description: "\(option): '\(text)' is not an address; use ip:port (e.g. 127.0.0.1:15000) or 'off'")
        }
        if loopbackOnly && !isLoopback(address.ip) {
            throw ParseError(
                description: "\(option): \(address) is not a loopback address; the admin endpoint is local only "
                    + "(use 127.0.0.1:<port> or [::1]:<port>)"
            )
        }
        return address
    }

    static func isLoopback(_ ip: IPAddress) -> Bool {
        switch ip {
        case .v4(let a): a >> 24 == 127
        case .v6(let hi, let lo): hi == 0 && lo == 1
        }
    }
}
