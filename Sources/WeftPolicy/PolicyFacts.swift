// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// What the compiled matchers read: the attributes of one connection (the node, L4) or one HTTP request (the
/// waypoint, L7). The match structure (``CompiledPolicy`` → ``CompiledRule`` → ``Clause`` → ``MatchGroup`` →
/// ``FieldMatch``) is generic over it, so both engines share one matcher and one explanation code path, and
/// each call is specialised for its facts type (no existential boxing on the hot path).
///
/// ``ConnectionFacts`` has no HTTP attributes: its `http…` members are `nil`, and the node never compiles
/// a field that reads them (they are projected away, see ``NodeEnforcement``).
protocol PolicyFacts {
    /// The peer address.
    var sourceIP: IPAddress { get }
    /// The peer's mTLS identity, `nil` for plaintext.
    var sourceIdentity: SPIFFEID? { get }
    /// `sourceIdentity` in principal form.
    var sourcePrincipal: String? { get }
    /// The namespace of `sourceIdentity`.
    var sourceNamespace: String? { get }
    /// The destination address.
    var destinationIP: IPAddress { get }
    /// The destination (target) port.
    var destinationPort: UInt16 { get }
    /// The HTTP method; `nil` at L4.
    var httpMethod: String? { get }
    /// The authority without its port, ASCII-lowercased; `nil` at L4.
    var httpHost: String? { get }
    /// The whole authority, ASCII-lowercased; `nil` at L4.
    var httpAuthority: String? { get }
    /// The normalised path without query; `nil` at L4.
    var httpPath: String? { get }
    /// The values of a request header (name already lowercased), joined with `,`; `nil` when absent or at L4.
    func httpHeader(_ lowercasedName: String) -> String?
    /// What the facts describe in explanations: `connection` or `request`.
    static var subject: String { get }
}

extension ConnectionFacts: PolicyFacts {
    var httpMethod: String? { nil }
    var httpHost: String? { nil }
    var httpAuthority: String? { nil }
    var httpPath: String? { nil }
    func httpHeader(_ lowercasedName: String) -> String? { nil }
    static var subject: String { "connection" }
}

extension RequestFacts: PolicyFacts {
    var httpMethod: String? { method }
    var httpHost: String? { host }
    var httpAuthority: String? { authority }
    var httpPath: String? { path }
    func httpHeader(_ lowercasedName: String) -> String? { headers[lowercasedName] }
    static var subject: String { "request" }
}
