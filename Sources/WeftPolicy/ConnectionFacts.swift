// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// What the node knows about one inbound connection when it authorizes it: the L4 attributes Istio's
/// AuthorizationPolicy can test at ztunnel.
///
/// Built once per connection (or per HBONE stream). The principal string is derived here, not during
/// evaluation, so ``PolicySet/evaluate(_:)`` itself does not allocate.
public struct ConnectionFacts: Hashable, Sendable, CustomStringConvertible {
    /// The connection's source address (the peer). IPv4-mapped IPv6 addresses are stored as IPv4, as
    /// ztunnel canonicalises socket addresses, so `10.0.0.0/8` matches `::ffff:10.1.2.3`.
    public let sourceIP: IPAddress
    /// The peer's SPIFFE identity from mTLS/HBONE; `nil` for a plaintext connection.
    public let sourceIdentity: SPIFFEID?
    /// `sourceIdentity` in principal form, `<trust-domain>/ns/<ns>/sa/<sa>`; `nil` without an identity.
    public let sourcePrincipal: String?
    /// The namespace of `sourceIdentity`; `nil` without an identity.
    public let sourceNamespace: String?
    /// The address the connection is for (the workload's address).
    public let destinationIP: IPAddress
    /// The workload (target) port the connection is for.
    public let destinationPort: UInt16
    /// The destination workload's namespace, which decides the namespace-scoped policies.
    public let destinationNamespace: String
    /// The destination workload's labels, which `selector` policies match.
    public let destinationLabels: [String: String]
    /// A name for the destination in explanations, such as `Pod/shop/web-1`; not used for decisions.
    public let destinationName: String?

    /// Creates facts for a connection to a workload given by its namespace and labels.
    ///
    /// - Parameters:
    ///   - sourceIP: The peer address.
    ///   - sourceIdentity: The authenticated peer identity; `nil` for plaintext.
    ///   - destinationIP: The destination workload address.
    ///   - destinationPort: The destination workload (target) port.
    ///   - destinationNamespace: The destination workload's namespace.
    ///   - destinationLabels: The destination workload's labels.
    ///   - destinationName: Optional display name for explanations.
    public init(
        sourceIP: IPAddress,
        sourceIdentity: SPIFFEID?,
        destinationIP: IPAddress,
        destinationPort: UInt16,
        destinationNamespace: String,
        destinationLabels: [String: String] = [:],
        destinationName: String? = nil
    ) {
        self.sourceIP = Self.canonical(sourceIP)
        self.sourceIdentity = sourceIdentity
        self.sourcePrincipal = sourceIdentity?.principal
        self.sourceNamespace = sourceIdentity?.namespace
        self.destinationIP = Self.canonical(destinationIP)
        self.destinationPort = destinationPort
        self.destinationNamespace = destinationNamespace
        self.destinationLabels = destinationLabels
        self.destinationName = destinationName
    }

    /// Creates facts for a connection to `destination`, taking its namespace, labels and uid.
    public init(
        sourceIP: IPAddress,
        sourceIdentity: SPIFFEID?,
        destinationIP: IPAddress,
        destinationPort: UInt16,
        destination: Workload
    ) {
        self.init(
            sourceIP: sourceIP, sourceIdentity: sourceIdentity, destinationIP: destinationIP,
            destinationPort: destinationPort, destinationNamespace: destination.namespace,
            destinationLabels: destination.labels, destinationName: destination.uid)
    }

    /// `10.0.0.5 (spiffe://td/ns/foo/sa/client) -> 10.1.0.9:8080 Pod/shop/web`, or `… (plaintext) …`; the
    /// destination's name when known, its namespace otherwise. The shape of ztunnel's connection display.
    public var description: String {
        let peer = sourceIdentity.map(\.uri) ?? "plaintext"
        let destination = HostPort(ip: destinationIP, port: destinationPort)
        return "\(sourceIP) (\(peer)) -> \(destination) \(destinationName ?? "in namespace " + destinationNamespace)"
    }

    /// `::ffff:a.b.c.d` as `a.b.c.d`; every other address unchanged.
    static func canonical(_ address: IPAddress) -> IPAddress {
        if case .v6(let high, let low) = address, high == 0, low >> 32 == 0xffff {
            return .v4(UInt32(truncatingIfNeeded: low))
        }
        return address
    }
}
