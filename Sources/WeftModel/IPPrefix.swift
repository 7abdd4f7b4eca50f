// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// An IPv4 or IPv6 CIDR block such as `10.0.0.0/8` or `fd00::/64`; a single address is a full-length block.
///
/// The address is kept as written (host bits are not cleared, as Go's `netip.ParsePrefix` keeps them), so
/// messages show what the operator wrote; ``contains(_:)`` compares only the first ``length`` bits.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    /// The address part, as written.
    public var address: IPAddress
    /// The prefix length: 0…32 for IPv4, 0…128 for IPv6.
    public var length: Int

    /// Creates a prefix; `length` is clamped to the address family's width.
    public init(address: IPAddress, length: Int) {
        self.address = address
        self.length = max(0, min(length, address.isIPv4 ? 32 : 128))
    }

    /// A block holding exactly one address.
    public init(_ address: IPAddress) {
        self.init(address: address, length: address.isIPv4 ? 32 : 128)
    }

    /// Parses `ip/length` or a bare `ip` (a single-address block), IPv4 or IPv6.
    ///
    /// The length must be decimal digits without a sign or leading zero, within the family's width.
    /// Returns `nil` for anything else, including hostnames and zone suffixes.
    public init?(parsing text: some StringProtocol) {
        guard let slash = text.firstIndex(of: "/") else {
            guard let address = IPAddress(text) else { return nil }
            self.init(address)
            return
        }
        let bits = text[text.index(after: slash)...]
        guard let address = IPAddress(text[..<slash]), !bits.isEmpty, bits.count <= 3,
            bits.allSatisfy({ $0.isASCII && $0.isNumber }), bits == "0" || !bits.hasPrefix("0"),
            let length = Int(bits), length <= (address.isIPv4 ? 32 : 128)
        else { return nil }
        self.init(address: address, length: length)
    }

    /// Whether `ip` lies in this block. Addresses of the other family never do.
    public func contains(_ ip: IPAddress) -> Bool {
        switch (address, ip) {
        case (.v4(let net), .v4(let candidate)):
            guard length > 0 else { return true }
            let mask = UInt32.max << (32 - length)
            return net & mask == candidate & mask
        case (.v6(let netHigh, let netLow), .v6(let high, let low)):
            if length <= 64 {
                guard length > 0 else { return true }
                let mask = UInt64.max << (64 - length)
                return netHigh & mask == high & mask
            }
            let mask = UInt64.max << (128 - length)
            return netHigh == high && netLow & mask == low & mask
        default:
            return false
        }
    }

    /// `address/length`.
    public var description: String { "\(address)/\(length)" }
}
