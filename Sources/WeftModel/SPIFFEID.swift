// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// A workload identity in Istio's SPIFFE form: `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`.
///
/// Istio (and therefore Weft) identifies a workload by its Kubernetes service account, so every pod
/// with the same service account in the same namespace shares one identity and one certificate.
public struct SPIFFEID: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The trust domain, e.g. `cluster.local`.
    public var trustDomain: String
    /// The Kubernetes namespace of the workload.
    public var namespace: String
    /// The Kubernetes service account of the workload.
    public var serviceAccount: String

    /// Creates an identity from its parts. The parts are not validated here; use ``init(parsing:)``
    /// for untrusted input.
    public init(trustDomain: String, namespace: String, serviceAccount: String) {
        self.trustDomain = trustDomain
        self.namespace = namespace
        self.serviceAccount = serviceAccount
    }

    /// Parses `spiffe://td/ns/N/sa/S`.
    ///
    /// - Throws: ``ParseError`` naming what is wrong with the URI.
    public init(parsing uri: String) throws(ParseError) {
        let prefix = "spiffe://"
        guard uri.hasPrefix(prefix) else {
            throw ParseError(input: uri, reason: "does not start with spiffe://")
        }
        let rest = uri.dropFirst(prefix.count)
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[1] == "ns", parts[3] == "sa" else {
            throw ParseError(input: uri, reason: "expected spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>")
        }
        for (label, value) in [("trust domain", parts[0]), ("namespace", parts[2]), ("service account", parts[4])] {
            guard !value.isEmpty else { throw ParseError(input: uri, reason: "empty \(label)") }
            guard value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }) else {
                throw ParseError(input: uri, reason: "\(label) '\(value)' has characters outside [A-Za-z0-9-._]")
            }
        }
        self.init(trustDomain: parts[0], namespace: parts[2], serviceAccount: parts[4])
    }

    /// The URI form, `spiffe://td/ns/N/sa/S`.
    public var uri: String { "spiffe://\(trustDomain)/ns/\(namespace)/sa/\(serviceAccount)" }

    /// The principal form AuthorizationPolicy uses: the URI without `spiffe://`.
    public var principal: String { "\(trustDomain)/ns/\(namespace)/sa/\(serviceAccount)" }

    public var description: String { uri }

    public static func < (lhs: SPIFFEID, rhs: SPIFFEID) -> Bool { lhs.uri < rhs.uri }

    /// Why a string is not a valid SPIFFE ID.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var input: String
        public var reason: String
        public var description: String { "invalid SPIFFE ID '\(input)': \(reason)" }
    }
}
