// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Everything the node reports about one proxied TCP connection, once when it opens and once when it closes:
/// the source of Istio's `istio_tcp_*` metrics and of the access log.
///
/// Byte counts follow Istio's definitions, whichever node reports: `requestBytes` went from the client to the
/// server (`istio_tcp_received_bytes_total`), `responseBytes` from the server to the client
/// (`istio_tcp_sent_bytes_total`).
public struct ConnectionReport: Sendable {
    /// Which end reports: the source's node (`source`) or the destination's node (`destination`).
    public enum Reporter: String, Sendable {
        case source, destination
    }

    /// Which way the reporting node carried the connection.
    public enum Direction: String, Sendable {
        case outbound, inbound
    }

    /// Istio's `connection_security_policy`.
    public enum SecurityPolicy: String, Sendable {
        case mutualTLS = "mutual_tls"
        case none
        case unknown
    }

    /// Why a connection failed, as ztunnel's `response_flags`; `nil` renders `-`.
    public enum ResponseFlag: String, Sendable {
        /// Refused by AuthorizationPolicy (or by STRICT PeerAuthentication for plaintext).
        case deny = "DENY"
        /// The upstream could not be reached (TCP connect or HBONE CONNECT failed).
        case connect = "CONNECT"
        /// No route or endpoint for the destination.
        case noRoute = "NR"
    }

    public var reporter: Reporter
    public var direction: Direction
    public var source: TrafficPeer
    public var destination: TrafficPeer
    public var service: TrafficService?
    /// The destination (target) port.
    public var destinationPort: UInt16?
    /// For HBONE, the tunnel endpoint (`ip:15008`) the connection went through.
    public var hboneAddress: String?
    public var security: SecurityPolicy
    public var responseFlag: ResponseFlag?
    public var requestBytes: UInt64 = 0
    public var responseBytes: UInt64 = 0
    public var duration: Duration = .zero
    /// What went wrong, for the access log (never sent to a peer).
    public var error: String?

    public init(
        reporter: Reporter,
        direction: Direction,
        source: TrafficPeer,
        destination: TrafficPeer,
        service: TrafficService? = nil,
        destinationPort: UInt16? = nil,
        hboneAddress: String? = nil,
        security: SecurityPolicy,
        responseFlag: ResponseFlag? = nil
    ) {
        self.reporter = reporter
        self.direction = direction
        self.source = source
        self.destination = destination
        self.service = service
        self.destinationPort = destinationPort
        self.hboneAddress = hboneAddress
        self.security = security
        self.responseFlag = responseFlag
    }
}
